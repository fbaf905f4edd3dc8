"""`earshot export-audio` end to end on a real SQLite database in a tmp data folder: the redacted
copy by default, the original only with --unredacted and a reason, each audited with its copy."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import wave
from pathlib import Path

import numpy as np

from storage.blobs import LocalBlobStore
from storage.db import open_database
from tests.cli import earshot
from tests.unit.storage.test_audio_export import save_redacted_transcript

COPY = b"RIFF the redacted copy"


def _redacted_call(data_dir: Path, tmp_path: Path) -> Path:
    """One ingested call whose transcript has a redacted span and a redacted copy of its audio."""
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    call = incoming / "card_call.wav"
    with wave.open(str(call), "wb") as audio:  # two seconds of a tone, 8 kHz 16-bit mono
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(8000)
        audio.writeframes((8000 * np.sin(np.arange(16000) / 8)).astype("<i2").tobytes())
    assert earshot(data_dir, "ingest", str(incoming)).exit_code == 0
    db = open_database(f"sqlite:///{data_dir / 'earshot.db'}")
    save_redacted_transcript(db, LocalBlobStore(data_dir / "audio"), 1, verified=True, copy=COPY)
    db.engine.dispose()
    return call


def _exports(data_dir: Path) -> list[tuple[str, dict[str, str]]]:
    with sqlite3.connect(data_dir / "earshot.db") as connection:
        rows = connection.execute(
            "SELECT action, details FROM audit_log WHERE action LIKE '%audio_exported' ORDER BY id"
        ).fetchall()
    return [(action, json.loads(details)) for action, details in rows]


def test_export_audio_gives_the_redacted_copy_and_the_original_only_with_a_reason(tmp_path: Path) -> None:
    data_dir, out = tmp_path / "data", tmp_path / "out"
    out.mkdir()
    call = _redacted_call(data_dir, tmp_path)

    redacted = earshot(data_dir, "export-audio", "1", "-o", str(out))
    assert redacted.exit_code == 0, redacted.output
    assert (out / "call-1-redacted.wav").read_bytes() == COPY
    assert "the redacted audio of call 1" in redacted.stderr

    for args, message in (
        (("--unredacted",), "--unredacted needs --reason"),
        (("--reason", "case 9: legal request"), "--reason goes with --unredacted"),
        (("--unredacted", "--reason", "because"), "needs a reason of at least"),
    ):
        refused = earshot(data_dir, "export-audio", "1", "-o", str(out), *args)
        assert refused.exit_code == 1 and message in refused.stderr, refused.output

    target = out / "original.wav"
    original = earshot(
        data_dir, "export-audio", "1", "-o", str(target), "--unredacted", "--reason", "case 9: legal request"
    )
    assert original.exit_code == 0, original.output
    assert target.read_bytes() == call.read_bytes()
    assert [(action, details["copy"], details.get("reason")) for action, details in _exports(data_dir)] == [
        ("audio_exported", "redacted", None),
        ("original_audio_exported", "original", "case 9: legal request"),
    ]
    assert _exports(data_dir)[0][1]["sha256"] == hashlib.sha256(COPY).hexdigest()
