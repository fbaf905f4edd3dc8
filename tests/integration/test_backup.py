"""`earshot backup` and `earshot restore` on real data folders, with a real worker writing meanwhile."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf  # type: ignore[import-untyped]
from click.testing import CliRunner

from earshot.cli import main
from storage.audit import record_event
from storage.db import open_database
from storage.secrets import SecretStore
from tests.cli import earshot
from tests.paths import EVAL

STEREO = EVAL / "stereo_2spk.wav"


def rows(database: Path, sql: str) -> list[tuple]:
    with closing(sqlite3.connect(database)) as connection:
        return connection.execute(sql).fetchall()


def distinct_calls(folder: Path, count: int) -> Path:
    """``count`` short stereo calls with different bytes (so different recordings): the same two
    voices followed by a different length of silence each."""
    samples, rate = sf.read(STEREO)
    folder.mkdir()
    for i in range(count):
        padded = np.concatenate([samples, np.zeros((rate // 10 * (i + 1), samples.shape[1]))])
        sf.write(folder / f"call{i}.wav", padded, rate)
    return folder


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """Two calls, three audit rows, the audit key, a checkpoint file and caches that stay behind."""
    data = tmp_path / "data"
    assert earshot(data, "ingest", str(distinct_calls(tmp_path / "calls", 2))).exit_code == 0
    db = open_database(f"sqlite:///{data / 'earshot.db'}")
    for query in ("refund", "outage", "invoice"):
        record_event(db, None, "search_run", None, {"query": query}, username="coach")
    db.engine.dispose()
    SecretStore(data / "secrets").key("audit_chain")
    (data / "audit_checkpoints").mkdir()
    (data / "audit_checkpoints" / "latest.json").write_text('{"id": 3}')
    (data / "playback").mkdir()
    (data / "playback" / "cached.wav").write_bytes(b"derived")
    (data / "models").mkdir()
    (data / "models" / "model.bin").write_bytes(b"weights")
    return data


def test_backup_holds_database_audio_keys_and_checkpoints_owner_only(tmp_path: Path, data_dir: Path) -> None:
    dest = tmp_path / "backup"
    result = earshot(data_dir, "backup", str(dest))
    assert result.exit_code == 0, result.output
    assert "2 call(s), 0 transcript(s), 2 audio file(s)" in result.stdout

    manifest = json.loads((dest / "manifest.json").read_text())
    assert manifest["database"] == "earshot.db" and manifest["recordings"] == 2
    assert (
        manifest["schema_revision"]
        == rows(data_dir / "earshot.db", "select version_num from alembic_version")[0][0]
    )
    assert rows(dest / "earshot.db", "select count(*) from audit_log") == [(3,)]
    assert (dest / "secrets" / "audit_chain.key").read_bytes() == (
        data_dir / "secrets" / "audit_chain.key"
    ).read_bytes()
    assert (dest / "audit_checkpoints" / "latest.json").read_text() == '{"id": 3}'
    assert not (dest / "playback").exists() and not (dest / "models").exists()
    audio = [path for path in (dest / "audio").rglob("*") if path.is_file()]
    assert sorted(path.name for path in audio) == sorted(
        sha for (sha,) in rows(dest / "earshot.db", "select sha256 from recordings")
    )
    assert (
        mode(dest) == 0o700
        and mode(dest / "earshot.db") == 0o600
        and mode(dest / "secrets" / "audit_chain.key") == 0o600
    )
    assert all(mode(path) == 0o400 for path in audio)

    again = earshot(data_dir, "backup", str(dest))  # into the same folder: audio already there is kept
    assert again.exit_code == 0 and "2 audio file(s)" in again.stdout


def test_restore_refuses_to_overwrite_then_restores_and_verifies(tmp_path: Path, data_dir: Path) -> None:
    dest = tmp_path / "backup"
    assert earshot(data_dir, "backup", str(dest)).exit_code == 0

    refused = earshot(data_dir, "restore", str(dest))
    assert refused.exit_code == 1
    assert (
        "not overwriting" in refused.stderr and "earshot.db" in refused.stderr and "--force" in refused.stderr
    )

    fresh = tmp_path / "fresh"
    restored = earshot(fresh, "restore", str(dest))
    assert restored.exit_code == 0, restored.output
    assert "audit log intact: 3 row(s)" in restored.stdout
    assert rows(fresh / "earshot.db", "select original_name from recordings order by id") == [
        ("call0.wav",),
        ("call1.wav",),
    ]
    assert (fresh / "secrets" / "audit_chain.key").read_bytes() == (
        data_dir / "secrets" / "audit_chain.key"
    ).read_bytes()
    assert mode(fresh / "earshot.db") == 0o600 and mode(fresh / "secrets" / "audit_chain.key") == 0o600
    listing = earshot(fresh, "calls")
    assert listing.stdout.count("queued") == 2
    assert listing.stdout.split()[:3] == ["ID", "SHA-256", "FILE"]  # a header names the columns
    assert earshot(fresh, "audit", "verify").exit_code == 0

    # --force over a data folder that has moved on: the backup's state comes back, old WAL and all.
    db = open_database(f"sqlite:///{data_dir / 'earshot.db'}")
    record_event(db, None, "search_run", None, {"query": "after the backup"}, username="coach")
    forced = earshot(data_dir, "restore", str(dest), "--force")
    db.engine.dispose()
    assert forced.exit_code == 0, forced.output
    assert rows(data_dir / "earshot.db", "select count(*) from audit_log") == [(3,)]


def test_a_tampered_backup_is_restored_but_reported(tmp_path: Path, data_dir: Path) -> None:
    dest = tmp_path / "backup"
    assert earshot(data_dir, "backup", str(dest)).exit_code == 0
    with closing(sqlite3.connect(dest / "earshot.db")) as connection, connection:
        connection.execute("DROP TRIGGER audit_log_no_update")
        connection.execute('UPDATE audit_log SET details = \'{"query": "nothing"}\' WHERE id = 2')
    result = earshot(tmp_path / "fresh", "restore", str(dest))
    assert result.exit_code == 1
    assert result.stderr.startswith("error: restored, but the audit log does not verify after 1 good row(s)")


def test_backup_and_restore_refuse_folders_that_are_not_theirs(tmp_path: Path, data_dir: Path) -> None:
    inside = earshot(data_dir, "backup", str(data_dir / "backups"))
    assert inside.exit_code == 1 and "inside the data folder" in inside.stderr
    busy = tmp_path / "documents"
    busy.mkdir()
    (busy / "letter.txt").write_text("keep me")
    taken = earshot(data_dir, "backup", str(busy))
    assert taken.exit_code == 1 and "holds no earlier backup" in taken.stderr
    assert os.listdir(busy) == ["letter.txt"]
    incomplete = earshot(tmp_path / "fresh", "restore", str(busy))
    assert incomplete.exit_code == 1 and "not a complete Earshot backup" in incomplete.stderr


def test_a_server_database_is_left_to_its_own_tools_and_the_rest_is_backed_up(
    tmp_path: Path, data_dir: Path
) -> None:
    # Nothing listens on port 9: the backup must not even try to reach a server database.
    server = {"EARSHOT_DATABASE_URL": "postgresql+psycopg://earshot@127.0.0.1:9/earshot"}
    result = CliRunner().invoke(
        main, ["--data-dir", str(data_dir), "backup", str(tmp_path / "backup")], env=server
    )
    assert result.exit_code == 0, result.output
    assert "not a SQLite file: back it up with its own tools (e.g. pg_dump)" in result.stderr
    assert json.loads((tmp_path / "backup" / "manifest.json").read_text())["database"] is None
    assert not (tmp_path / "backup" / "earshot.db").exists()
    assert (tmp_path / "backup" / "secrets" / "audit_chain.key").exists()
    assert len([path for path in (tmp_path / "backup" / "audio").rglob("*") if path.is_file()]) == 2


@pytest.mark.slow
def test_backup_while_a_worker_writes_holds_every_committed_transcript(tmp_path: Path) -> None:
    data = tmp_path / "data"
    calls = 6
    assert earshot(data, "ingest", str(distinct_calls(tmp_path / "calls", calls))).exit_code == 0
    env = {**os.environ, "EARSHOT_DATA_DIR": str(data)}
    worker = subprocess.Popen(
        [sys.executable, "-m", "earshot", "worker", "--once", "--no-progress"],
        env=env,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 240
        while len(committed := rows(data / "earshot.db", "select recording_id from transcripts")) < 2:
            assert worker.poll() is None, worker.stderr.read() if worker.stderr else ""
            assert time.monotonic() < deadline, "the worker transcribed nothing"
            time.sleep(0.05)
        # A plain copy of earshot.db now would miss what sits in the WAL; the backup must not.
        backup = subprocess.run(
            [sys.executable, "-m", "earshot", "backup", str(tmp_path / "backup")],
            env=env,
            capture_output=True,
            text=True,
        )
        still_writing = worker.poll() is None
    finally:
        worker.wait(timeout=300)
    assert backup.returncode == 0, backup.stderr
    assert still_writing, "the worker finished before the backup: the test proved nothing"
    copy = tmp_path / "backup" / "earshot.db"
    in_copy = {recording for (recording,) in rows(copy, "select recording_id from transcripts")}
    assert {recording for (recording,) in committed} <= in_copy
    assert rows(copy, "select count(*) from utterances u join transcripts t on t.id = u.transcript_id") != [
        (0,)
    ]
    assert rows(data / "earshot.db", "select count(*) from transcripts") == [(calls,)]  # the worker went on

    restored = earshot(tmp_path / "restored", "restore", str(tmp_path / "backup"))
    assert restored.exit_code == 0, restored.output
    for recording in in_copy:
        exported = earshot(tmp_path / "restored", "export", str(recording), "--format", "txt")
        assert exported.exit_code == 0 and exported.stdout.strip()
