"""Real `earshot` processes against real storage faults: another process holding SQLite's write lock
past the busy timeout, and a full disk (a small tmpfs, which needs root to mount)."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing, suppress
from pathlib import Path

import pytest

from earshot.settings import JOB_HEARTBEAT_EVERY_S
from tests.cli import earshot
from tests.paths import EVAL

STEREO = EVAL / "stereo_2spk.wav"


def rows(data_dir: Path, sql: str) -> list[tuple]:
    with closing(sqlite3.connect(data_dir / "earshot.db")) as connection:
        return connection.execute(sql).fetchall()


def worker_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "earshot", "worker", "--no-progress", *args]


def test_a_lock_held_past_the_busy_timeout_does_not_stop_the_worker(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copy(STEREO, tmp_path / "call.wav")
    assert earshot(data, "ingest", str(tmp_path / "call.wav")).exit_code == 0
    env = {**os.environ, "EARSHOT_DATA_DIR": str(data), "EARSHOT_DATABASE_BUSY_TIMEOUT_S": "0.2"}
    log = tmp_path / "worker.log"
    with (
        closing(sqlite3.connect(data / "earshot.db", isolation_level=None)) as holder,
        log.open("w") as stderr,
    ):
        holder.execute("BEGIN IMMEDIATE")  # another process's long write: a backup tool, a migration
        worker = subprocess.Popen(worker_command(), env=env, stderr=stderr, start_new_session=True)
        try:
            deadline = time.monotonic() + 60
            while log.read_text().count("is locked by another process") < 3:  # three waits, then more
                assert worker.poll() is None, f"the worker stopped: {log.read_text()}"
                assert time.monotonic() < deadline, "the worker never met the lock"
                time.sleep(0.05)
            holder.execute("ROLLBACK")
            while rows(data, "select status from jobs") != [("running",)]:
                assert worker.poll() is None, f"the worker stopped: {log.read_text()}"
                assert time.monotonic() < deadline, "the worker never claimed the job"
                time.sleep(0.05)
        finally:
            with suppress(ProcessLookupError):  # gone already if it stopped, which fails the test above
                os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)
    assert "trying again in" in log.read_text() and "Traceback" not in log.read_text()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount_point)], check=False
    )
    if mounted.returncode != 0:
        pytest.skip("a full disk is made by mounting a small tmpfs, which needs root")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "--lazy", str(mount_point)], check=True)


def fill(disk: Path, leaving: int = 0) -> Path:
    """Write until the disk has ``leaving`` bytes free (none: until it refuses)."""
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as out:
        try:
            while _free_bytes(disk) > leaving:
                out.write(b"\0" * min(1 << 16, max(_free_bytes(disk) - leaving, 4096)))
            if leaving == 0:
                out.write(b"\0" * 4096)
        except OSError as error:
            assert error.errno == errno.ENOSPC and leaving == 0
    return filler


def _free_bytes(disk: Path) -> int:
    stats = os.statvfs(disk)
    return stats.f_bavail * stats.f_frsize


def stored_audio(data: Path) -> list[Path]:
    """Every file under the audio store, its staging folder included."""
    return [path for path in (data / "audio").rglob("*") if path.is_file()]


def test_a_full_disk_during_ingest_fails_each_file_clearly_and_stores_nothing(
    tmp_path: Path, small_disk: Path
) -> None:
    data = small_disk / "data"
    assert earshot(data, "calls").exit_code == 0  # the database exists; the disk fills up afterwards
    calls = tmp_path / "calls"
    calls.mkdir()
    for name, padding in (("first.wav", b""), ("second.wav", b"\0\0")):
        (calls / name).write_bytes(STEREO.read_bytes() + padding)  # two recordings, different bytes
    filler = fill(small_disk, leaving=16 * 4096)  # room for the database's own writes, not the audio

    full = subprocess.run(
        [sys.executable, "-m", "earshot", "--data-dir", str(data), "ingest", str(calls)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert full.returncode == 1 and "Traceback" not in full.stderr, full.stderr
    failed = [line for line in full.stdout.splitlines() if line.startswith("failed")]
    assert len(failed) == 2 and all("No space left on device" in line for line in failed), full.stdout
    assert "0 ingested, 0 already stored, 2 failed" in full.stderr
    assert stored_audio(data) == [] and rows(data, "select count(*) from recordings") == [(0,)]

    filler.unlink()
    assert earshot(data, "ingest", str(calls)).exit_code == 0  # nothing was half-stored in the way
    assert rows(data, "select count(*) from recordings, jobs using (id)") == [(2,)]


def test_audio_stored_for_a_call_whose_row_could_not_be_written_is_removed(
    tmp_path: Path, small_disk: Path
) -> None:
    data = small_disk / "data"
    assert earshot(data, "calls").exit_code == 0
    shutil.copy(STEREO, tmp_path / "call.wav")
    audio_pages = -(-STEREO.stat().st_size // 4096)
    filler = fill(small_disk, leaving=(audio_pages + 2) * 4096)  # the audio fits; the call's rows do not

    full = earshot(data, "ingest", str(tmp_path / "call.wav"))
    assert full.exit_code == 1
    assert "failed" in full.stdout and "disk is full" in full.stdout, full.stdout
    assert stored_audio(data) == [] and rows(data, "select count(*) from recordings") == [(0,)]
    filler.unlink()
    assert earshot(data, "ingest", str(tmp_path / "call.wav")).exit_code == 0
    assert len(stored_audio(data)) == 1


@pytest.mark.slow
def test_a_full_disk_releases_the_job_at_once_and_it_can_be_retried(tmp_path: Path, small_disk: Path) -> None:
    data = small_disk / "data"
    shutil.copy(STEREO, tmp_path / "call.wav")
    # One attempt: the job the worker gives up on is then failed for good, not left running.
    assert (
        earshot(data, "ingest", str(tmp_path / "call.wav"), env={"EARSHOT_MAX_ATTEMPTS": "1"}).exit_code == 0
    )
    env = {**os.environ, "EARSHOT_DATA_DIR": str(data)}
    log = tmp_path / "worker.log"
    with log.open("w") as stderr:
        worker = subprocess.Popen(worker_command("--once"), env=env, stderr=stderr)
    deadline = time.monotonic() + 120
    while rows(data, "select status from jobs") != [("running",)]:
        assert worker.poll() is None and time.monotonic() < deadline, "the worker never claimed the job"
        time.sleep(0.02)
    filler = fill(small_disk)  # while it transcribes: the transcript will not fit
    while "releasing job 1" not in log.read_text():  # it tried again with back-off, then gave up
        assert worker.poll() is None, f"the worker stopped: {log.read_text()}"
        assert time.monotonic() < deadline, "the worker never gave up on storing the transcript"
        time.sleep(0.05)
    assert rows(data, "select status from jobs") == [("running",)]  # nothing can be written yet
    filler.unlink()  # space again: the job is given back at once, not after the stale timeout
    assert worker.wait(timeout=120) == 0, log.read_text()
    output = log.read_text()
    assert "disk is full" in output and "trying again in" in output and "Traceback" not in output
    assert "0 job(s) done, 1 failed" in output
    (job,) = rows(data, "select status, claimed_by, error from jobs")
    assert job[0] == "failed" and job[1] is None and "disk is full" in job[2]
    assert rows(data, "select count(*) from transcripts") == [(0,)]

    assert "1 job(s) queued again" in earshot(data, "retry").stdout
    again = subprocess.run(worker_command("--once"), env=env, capture_output=True, text=True, timeout=300)
    assert "1 job(s) done" in again.stderr, again.stderr
    assert rows(data, "select count(*) from transcripts") == [(1,)]


def test_a_heartbeat_that_meets_the_lock_is_skipped_not_fatal(tmp_path: Path) -> None:
    from earshot.stopping import StopSignal
    from earshot.worker import _Heartbeat
    from storage.db import open_database

    data = tmp_path / "data"
    shutil.copy(STEREO, tmp_path / "call.wav")
    assert earshot(data, "ingest", str(tmp_path / "call.wav")).exit_code == 0
    db = open_database(f"sqlite:///{data / 'earshot.db'}", busy_timeout=0.1)
    heard: list[str] = []
    beat = _Heartbeat(db, 1, None, heard.append, StopSignal())
    with closing(sqlite3.connect(data / "earshot.db", isolation_level=None)) as holder:
        holder.execute("BEGIN IMMEDIATE")
        beat._last -= JOB_HEARTBEAT_EVERY_S  # a beat is due now
        beat("asr", completed=1, total=2)  # the pipeline goes on: the next beat keeps the job
        holder.execute("ROLLBACK")
    db.engine.dispose()
    assert len(heard) == 1 and heard[0].startswith("heartbeat of job 1 missed: database")
