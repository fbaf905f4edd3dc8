# ruff: noqa: E501  (the lines the voices read are kept whole)
"""Redaction end to end on real audio: a caller reads a card number out (flite voices), the
embedded model transcribes it, and what is stored, indexed and exported is the redacted call."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from bench.spoken_calls import SpokenLine, write_call
from storage import audit, guarded, services, users
from storage.access import Principal, UserRole
from storage.blobs import LocalBlobStore
from storage.db import Database, open_database, read_scope
from storage.deletion import DeletionPlan, delete, sweep_unreferenced_audio
from storage.errors import InvalidValue, PermissionDenied
from storage.models import Recording
from tests.cli import earshot
from transcribe.audio import decode
from transcribe.models import load_whisper
from transcribe.redaction.stage import redact_transcript
from transcribe.redaction.verify import verify_redaction
from transcribe.types import SAMPLE_RATE

CARD = "4519961983914549"  # Luhn-valid
LINES = (
    SpokenLine(0, "rms", "Thank you for calling. Can I have your card number please?"),
    SpokenLine(1, "slt", "Sure, it's four five one nine, nine six one nine, eight three nine one, four five four nine."),
    SpokenLine(0, "rms", "Thank you. And what is the security code on the back?"),
    SpokenLine(1, "slt", "Seven three seven."),
    SpokenLine(0, "rms", "Great, the payment is done. Goodbye."),
)  # fmt: skip


@pytest.fixture(scope="module")
def stored_call(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, tuple[SpokenLine, ...]]:
    """The call ingested and transcribed by the worker, as in production."""
    incoming = tmp_path_factory.mktemp("incoming")
    spoken = write_call(incoming / "card_call.wav", LINES)
    sidecar = {"direction": "inbound", "started_at": "2026-12-01T10:00:00+00:00", "agent": "Sam"}
    (incoming / "card_call.json").write_text(json.dumps({**sidecar, "channel_roles": ["agent", "customer"]}))
    data_dir = tmp_path_factory.mktemp("data")
    assert earshot(data_dir, "ingest", str(incoming)).exit_code == 0
    worked = earshot(data_dir, "worker", "--once", "--no-progress")
    assert worked.exit_code == 0, worked.output
    return data_dir, spoken


@pytest.mark.slow
def test_the_stored_transcript_has_placeholders_where_the_card_and_code_were_said(stored_call) -> None:
    data_dir, spoken = stored_call
    exported = earshot(data_dir, "export", "1", "--format", "json")
    assert exported.exit_code == 0
    words = [w for u in json.loads(exported.stdout)["utterances"] for w in u["words"]]
    digits = "".join(c for w in words for c in w["text"] if c.isdigit())
    assert not any(CARD[i : i + 4] in digits for i in range(0, 16, 4)), digits
    card_words = [w for w in words if w["entity"] == "CARD"]
    code_words = [w for w in words if w["entity"] == "CVC"]
    assert card_words and code_words
    assert all(w["text"] == "[CARD]" for w in card_words)
    # The redacted words keep their timing: each is heard inside the line that read it out
    # (Whisper stretches a last word into the pause after it, so the middle of a word counts).
    card_line, code_line = spoken[1], spoken[3]
    assert all(
        card_line.start - 0.3 <= (w["start"] + w["end"]) / 2 <= card_line.end + 0.3 for w in card_words
    )
    assert all(
        code_line.start - 0.3 <= (w["start"] + w["end"]) / 2 <= code_line.end + 0.3 for w in code_words
    )
    assert sum(w["end"] - w["start"] for w in card_words) > 0.6 * (card_line.end - card_line.start) - 1.0
    assert "4519" not in earshot(data_dir, "export", "1", "--format", "txt").stdout


@pytest.mark.slow
def test_search_finds_the_call_by_its_words_but_never_by_the_card_digits(stored_call) -> None:
    data_dir, _ = stored_call
    assert earshot(data_dir, "search", "security", "--json").stdout.strip()  # the index holds the call
    for digits in (CARD[:4], CARD[4:8], CARD, "737", "4519*"):
        assert earshot(data_dir, "search", digits, "--json").stdout.strip() == "", digits


@pytest.mark.slow
def test_what_was_heard_is_kept_apart_from_the_transcript(stored_call) -> None:
    data_dir, _ = stored_call
    with sqlite3.connect(data_dir / "earshot.db") as connection:
        spans = connection.execute(
            "SELECT entity, heard, source FROM redacted_spans ORDER BY start"
        ).fetchall()
        utterance_texts = " ".join(row[0] for row in connection.execute("SELECT text FROM utterances"))
    assert [(entity, source) for entity, _, source in spans] == [("CARD", "detected"), ("CVC", "detected")]
    heard_card = "".join(c for c in "".join(json.loads(spans[0][1])) if c.isdigit())
    assert len(heard_card) >= 12 and heard_card[:4] == CARD[:4]
    assert "[CARD]" in utterance_texts and "[CVC]" in utterance_texts and CARD[:4] not in utterance_texts


def _database(data_dir: Path) -> Database:
    return open_database(f"sqlite:///{data_dir / 'earshot.db'}")


def _principal(db: Database, role: UserRole) -> Principal:
    existing = {user.username: user for user in users.list_users(db, actor=None)}
    name = f"{role}@example.com"
    user = existing.get(name) or users.create_user(db, name, "correct horse battery", role, actor=None)
    return Principal(user.id, user.username, user.role, user.agent_id)


@pytest.mark.slow
def test_the_audio_everyone_hears_is_the_redacted_copy_and_the_original_is_untouched(stored_call) -> None:
    data_dir, spoken = stored_call
    db, blobs = _database(data_dir), LocalBlobStore(data_dir / "audio")
    agent = _principal(db, "agent")
    original = guarded.fetch_original_audio(db, None, 1, blobs, "case 12: checking the redaction")
    served = guarded.fetch_audio(db, agent, 1, blobs, audit=True)
    assert served.sha256 != original.sha256 and served.path != original.path
    assert hashlib.sha256(original.path.read_bytes()).hexdigest() == original.sha256  # never altered
    assert hashlib.sha256(served.path.read_bytes()).hexdigest() == served.sha256  # content-addressed
    assert guarded.replay_call(db, agent, 1, blobs).audio_path == served.path

    heard, covered = decode(original.path).samples, decode(served.path).samples
    assert heard.shape == covered.shape  # same length: transcript times still match
    card = spoken[1]
    middle = slice(int((card.start + 1.0) * SAMPLE_RATE), int((card.end - 1.0) * SAMPLE_RATE))
    for channel in covered:  # a steady 1 kHz tone on every channel while the card was read out
        spectrum = np.abs(np.fft.rfft(channel[middle]))
        peak_hz = np.argmax(spectrum) * SAMPLE_RATE / (2 * (len(spectrum) - 1))
        assert abs(peak_hz - 1000) < 10 and spectrum.max() > 50 * np.median(spectrum)
    question = slice(int(spoken[0].start * SAMPLE_RATE), int(spoken[0].end * SAMPLE_RATE))
    assert np.allclose(covered[:, question], heard[:, question], atol=2e-4)  # the rest is as it was


@pytest.mark.slow
def test_the_original_and_the_unredacted_text_are_a_grant_with_a_reason_and_audited(stored_call) -> None:
    data_dir, _ = stored_call
    db, blobs = _database(data_dir), LocalBlobStore(data_dir / "audio")
    agent, compliance = _principal(db, "agent"), _principal(db, "compliance")
    reason = "ticket 4711: customer disputes the payment"
    for read in (
        lambda who, why: guarded.fetch_original_audio(db, who, 1, blobs, why),
        lambda who, why: guarded.view_unredacted_transcript(db, who, 1, why),
    ):
        with pytest.raises(PermissionDenied, match="read unredacted"):
            read(agent, reason)
        with pytest.raises(InvalidValue, match="needs a reason"):
            read(compliance, "   because ")
        read(compliance, reason)
    unredacted = guarded.view_unredacted_transcript(db, compliance, 1, reason)
    said = " ".join(u.text for u in unredacted.utterances)
    assert "[CARD]" not in said and sum(c.isdigit() for c in said) >= 12
    audited = audit.list_audit(db, _principal(db, "admin"), limit=50)
    reads = [(r.username, r.action, r.details.get("reason")) for r in audited]
    assert (compliance.username, "original_audio_fetched", reason) in reads
    assert (compliance.username, "unredacted_transcript_viewed", reason) in reads
    assert not any(name == agent.username and "unredacted" in action for name, action, _ in reads)


@pytest.mark.slow
def test_earshot_export_unredacted_needs_a_reason_and_is_audited(stored_call) -> None:
    data_dir, _ = stored_call
    refused = earshot(data_dir, "export", "1", "--unredacted")
    assert refused.exit_code != 0 and "--unredacted needs --reason" in refused.output
    exported = earshot(
        data_dir, "export", "1", "--format", "txt", "--unredacted", "--reason", "case 9: legal request"
    )
    assert exported.exit_code == 0 and "[CARD]" not in exported.stdout and "[CVC]" not in exported.stdout
    with sqlite3.connect(data_dir / "earshot.db") as connection:
        rows = connection.execute(
            "SELECT action, details FROM audit_log WHERE action = 'unredacted_export'"
        ).fetchall()
    assert rows and json.loads(rows[-1][1])["reason"] == "case 9: legal request"


@pytest.mark.slow
def test_every_redacted_span_is_verified_by_hearing_the_redacted_copy_again(stored_call) -> None:
    data_dir, _ = stored_call
    with sqlite3.connect(data_dir / "earshot.db") as connection:
        checks = connection.execute("SELECT entity, verified FROM redacted_spans ORDER BY start").fetchall()
    assert checks == [("CARD", 1), ("CVC", 1)]
    report = earshot(data_dir, "redactions", "1")
    assert report.exit_code == 0
    assert "CARD" in report.stdout and "verified" in report.stdout
    assert "2 redacted, 2 verified" in report.output and "flagged" not in report.output


@pytest.mark.slow
def test_a_call_whose_audio_still_gives_the_number_away_is_flagged_and_locked(
    stored_call, tmp_path: Path
) -> None:
    """Verification run for real on audio in which nothing was covered: it hears the card again,
    and the call is locked to the unredacted grant until compliance reviews it."""
    data_dir, _ = stored_call
    db, blobs = _database(data_dir), LocalBlobStore(data_dir / "audio")
    original = guarded.fetch_original_audio(db, None, 1, blobs, "test: verification must fail here")
    heard = services.unredacted_transcript(db, 1)
    redaction = redact_transcript(heard)
    model = load_whisper("tiny.en", data_dir / "models", "cpu", "int8")
    checks = verify_redaction(model, decode(original.path).samples, redaction.spans, heard.options)
    assert [c.entity for c in checks if not c.verified] == ["CARD", "CVC"]
    assert checks[0].leaked[:4] == CARD[:4] or checks[0].leaked in CARD
    card_copy = services.served_audio(db, 1, blobs).sha256
    services.save_transcript(
        db,
        1,
        redaction.transcript,
        redaction.spans,
        redacted_audio_sha256=card_copy,
        verified=[c.verified for c in checks],
    )
    try:
        with pytest.raises(PermissionDenied, match="flagged for review"):
            guarded.fetch_audio(db, _principal(db, "agent"), 1, blobs, audit=False)
        with pytest.raises(PermissionDenied, match="flagged for review"):
            guarded.replay_call(db, _principal(db, "coach"), 1, blobs)
        assert (
            guarded.fetch_audio(db, _principal(db, "compliance"), 1, blobs, audit=False).sha256 == card_copy
        )
        assert "flagged for review (2 still heard)" in earshot(data_dir, "redactions", "1").output
    finally:  # the module's other tests read the call as the worker stored it
        verified = [True] * len(redaction.spans)
        services.save_transcript(
            db, 1, redaction.transcript, redaction.spans, redacted_audio_sha256=card_copy, verified=verified
        )


@pytest.mark.slow
def test_the_redacted_copy_is_kept_by_the_sweep_and_deleted_with_its_call(
    stored_call, tmp_path: Path
) -> None:
    """The copy is the call's audio too (the caller's voice is in it around the tone): the sweep of
    unreferenced audio must keep it while the call stands, and deleting the call must remove it."""
    data_dir = tmp_path / "data"
    shutil.copytree(stored_call[0], data_dir)  # the module's call stays for the other tests
    db, blobs = _database(data_dir), LocalBlobStore(data_dir / "audio")
    served = guarded.fetch_audio(db, _principal(db, "agent"), 1, blobs, audit=False)
    original = services.find_recording(db, "1").sha256
    assert served.sha256 != original

    assert sweep_unreferenced_audio(db, blobs, grace=timedelta(0)) == 0
    assert served.path.exists()

    with read_scope(db) as session:
        thread_id = session.scalar(select(Recording.thread_id).where(Recording.id == 1))
    plan = DeletionPlan(thread_ids=frozenset({thread_id}))
    report = delete(
        db, blobs, plan, who=None, purpose="erasure", target="call:1", dry_run=False, skip_held=False
    )
    assert report.audio_files == 2  # the original and its redacted copy
    assert not served.path.exists() and not any(blobs.stored())
