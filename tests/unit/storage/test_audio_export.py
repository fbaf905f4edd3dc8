"""Audio export for compliance (``storage.guarded.export_audio``) on SQLite and PostgreSQL: the
redacted copy by default, the original only with the unredacted grant and a reason, the role
check, and an audit event that names the copy handed over."""

from __future__ import annotations

import hashlib

import pytest

from storage import guarded, services
from storage.access import Principal
from storage.audit import list_audit
from storage.blobs import BlobStore, put_bytes
from storage.db import Database
from storage.errors import InvalidValue, PermissionDenied
from tests.unit.storage.conftest import MakeRecording
from tests.unit.storage.test_storage_services import _transcript
from transcribe.redaction.stage import RedactedSpan, WordAt

REASON = "case 4711: the customer disputes the payment"


def save_redacted_transcript(
    db: Database,
    blobs: BlobStore,
    recording_id: int,
    *,
    verified: bool,
    copy: bytes = b"RIFF a redacted copy",
) -> None:
    """A transcript for the call with one redacted span, ``copy`` stored as its redacted audio and
    the span's verification as given (False: the call is flagged for review)."""
    span = RedactedSpan("CARD", "SPEAKER_01", 2.0, 2.55, (WordAt(1, 0), WordAt(1, 1)), ("4519", "9619"))
    sha256 = put_bytes(blobs, copy).sha256
    services.save_transcript(
        db, recording_id, _transcript(), [span], redacted_audio_sha256=sha256, verified=[verified]
    )


def _call(
    db: Database, blobs: BlobStore, make_recording: MakeRecording, *, redacted: bool, verified: bool
) -> int:
    recording_id = services.ingest_recording(db, make_recording(), blobs, "NL").recording_id
    if redacted:
        save_redacted_transcript(db, blobs, recording_id, verified=verified)
    else:
        services.save_transcript(db, recording_id, _transcript())
    return recording_id


def _exports(db: Database, people: dict[str, Principal]) -> list[tuple[str, str, dict[str, object]]]:
    return [
        (r.username, r.action, {k: v for k, v in r.details.items() if k != "about"})
        for r in list_audit(db, people["admin"], limit=50)
        if r.action in ("audio_exported", "original_audio_exported")
    ]


def test_the_redacted_copy_by_default_and_audited_as_such(
    db: Database, blobs: BlobStore, make_recording: MakeRecording, people: dict[str, Principal]
) -> None:
    recording_id = _call(db, blobs, make_recording, redacted=True, verified=True)
    export = guarded.export_audio(db, people["compliance"], recording_id, blobs)
    assert export.copy == "redacted" and export.file_name == f"call-{recording_id}-redacted.wav"
    assert export.path.read_bytes() == b"RIFF a redacted copy"
    assert export.sha256 == hashlib.sha256(b"RIFF a redacted copy").hexdigest()
    assert _exports(db, people) == [
        ("compliance@example.com", "audio_exported", {"copy": "redacted", "sha256": export.sha256})
    ]


def test_a_call_without_redaction_exports_its_original(
    db: Database, blobs: BlobStore, make_recording: MakeRecording, people: dict[str, Principal]
) -> None:
    recording_id = _call(db, blobs, make_recording, redacted=False, verified=True)
    export = guarded.export_audio(db, people["admin"], recording_id, blobs)
    original = services.find_recording(db, str(recording_id))
    assert (export.copy, export.sha256, export.file_name) == (
        "original",
        original.sha256,
        f"call-{recording_id}-original.wav",
    )
    assert [(action, details["copy"]) for _, action, details in _exports(db, people)] == [
        ("audio_exported", "original")
    ]


def test_the_original_needs_the_grant_and_a_reason_and_is_audited_with_it(
    db: Database, blobs: BlobStore, make_recording: MakeRecording, people: dict[str, Principal]
) -> None:
    recording_id = _call(db, blobs, make_recording, redacted=True, verified=True)
    for role in ("agent", "coach"):
        with pytest.raises(PermissionDenied, match="may not export"):
            guarded.export_audio(db, people[role], recording_id, blobs, unredacted_reason=REASON)
        with pytest.raises(PermissionDenied, match="may not export"):
            guarded.export_audio(db, people[role], recording_id, blobs)
    with pytest.raises(InvalidValue, match="needs a reason"):
        guarded.export_audio(db, people["compliance"], recording_id, blobs, unredacted_reason="  why ")
    assert _exports(db, people) == []  # nothing refused is logged as handed over

    export = guarded.export_audio(db, people["compliance"], recording_id, blobs, unredacted_reason=REASON)
    original = services.find_recording(db, str(recording_id))
    assert (export.copy, export.sha256) == ("original", original.sha256)
    assert hashlib.sha256(export.path.read_bytes()).hexdigest() == original.sha256
    assert _exports(db, people) == [
        (
            "compliance@example.com",
            "original_audio_exported",
            {"copy": "original", "sha256": original.sha256, "reason": REASON},
        )
    ]


def test_the_command_line_exports_without_a_role_and_is_named_in_the_log(
    db: Database, blobs: BlobStore, make_recording: MakeRecording, people: dict[str, Principal]
) -> None:
    recording_id = _call(db, blobs, make_recording, redacted=True, verified=False)  # flagged
    assert guarded.export_audio(db, None, recording_id, blobs).copy == "redacted"
    with pytest.raises(InvalidValue, match="needs a reason"):
        guarded.export_audio(db, None, recording_id, blobs, unredacted_reason="")
    assert [(name, details["copy"]) for name, _, details in _exports(db, people)] == [
        ("(command line)", "redacted")
    ]
