# ruff: noqa: E501  (the lines the voices read and the assertions on them are kept whole)
"""A reviewer's corrections on a real call: a missed number marked, a finding unmarked; the
transcript, the search index and the redacted audio follow, and both are audited."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bench.spoken_calls import SpokenLine, write_call
from storage import audit, guarded, services, users
from storage.access import Principal, UserRole
from storage.blobs import BlobStore, LocalBlobStore
from storage.db import Database, open_database
from storage.errors import InvalidValue, PermissionDenied
from storage.search import SearchFilters
from tests.integration.test_redaction_calls import earshot
from transcribe.audio import decode
from transcribe.redaction.stage import WordAt
from transcribe.types import SAMPLE_RATE, Transcript, Utterance

LINES = (
    SpokenLine(0, "rms", "Can I have your membership code please?"),
    SpokenLine(1, "slt", "Yes, it is seven seven three one two."),
    SpokenLine(0, "rms", "Thanks. And your card number?"),
    SpokenLine(1, "slt", "Five three three oh, three six one four, eight one one oh, oh four five seven."),
)


@pytest.fixture(scope="module")
def call(tmp_path_factory: pytest.TempPathFactory) -> tuple[Database, BlobStore, tuple[SpokenLine, ...]]:
    incoming = tmp_path_factory.mktemp("incoming")
    spoken = write_call(incoming / "membership.wav", LINES)
    sidecar = {
        "direction": "inbound",
        "started_at": "2026-12-01T11:00:00+00:00",
        "channel_roles": ["agent", "customer"],
    }
    (incoming / "membership.json").write_text(json.dumps(sidecar))
    data_dir = tmp_path_factory.mktemp("data")
    assert earshot(data_dir, "ingest", str(incoming)).exit_code == 0
    assert earshot(data_dir, "worker", "--once", "--no-progress").exit_code == 0
    return open_database(f"sqlite:///{data_dir / 'earshot.db'}"), LocalBlobStore(data_dir / "audio"), spoken


def _principal(db: Database, role: UserRole) -> Principal:
    user = users.create_user(db, f"{role}@example.com", "correct horse battery", role, actor=None)
    return Principal(user.id, user.username, user.role, user.agent_id)


def _found(db: Database, text: str) -> int:
    return len(guarded.search(db, None, text, SearchFilters()).hits)


def _tone_at(db: Database, blobs: BlobStore, start: float, end: float) -> bool:
    samples = decode(services.served_audio(db, 1, blobs).path).samples[1]
    stretch = samples[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)]
    spectrum = np.abs(np.fft.rfft(stretch))
    peak_hz = np.argmax(spectrum) * SAMPLE_RATE / (2 * (len(spectrum) - 1))
    return bool(abs(peak_hz - 1000) < 10 and spectrum.max() > 50 * np.median(spectrum))


def _said_during(heard: Transcript, line: SpokenLine) -> int:
    return next(
        u for u, said in enumerate(heard.utterances) if said.start < line.end and said.end > line.start
    )


def _digit_words(utterance: Utterance) -> list[int]:
    return [w for w, word in enumerate(utterance.words) if any(c.isdigit() for c in word.text)]


def _digits_as_said(utterance: Utterance, words: list[int]) -> str:
    """A search phrase of the digits as Whisper grouped them: "77312" on one CPU, "7 7 3 1 2" on another."""
    return '"{}"'.format(" ".join("".join(c for c in utterance.words[w].text if c.isdigit()) for w in words))


@pytest.mark.slow
def test_a_reviewer_marks_a_missed_number_and_unmarks_a_finding(call) -> None:
    db, blobs, spoken = call
    coach, compliance = _principal(db, "coach"), _principal(db, "compliance")
    heard = services.unredacted_transcript(db, 1)
    assert [s.entity for s in services.redacted_spans(db, 1)] == ["CARD"]
    # The membership code is not a type redaction knows: its digits are in the transcript and the index.
    answer = _said_during(heard, spoken[1])
    digits = _digit_words(heard.utterances[answer])
    assert digits
    code_text = _digits_as_said(heard.utterances[answer], digits)
    assert _found(db, code_text) == 1 and not _tone_at(db, blobs, spoken[1].start + 1.2, spoken[1].end - 0.3)

    first, last = WordAt(answer, digits[0]), WordAt(answer, digits[-1])
    with pytest.raises(PermissionDenied):
        guarded.mark_redaction(db, _principal(db, "agent"), 1, blobs, "BANK_ACCOUNT", first, last)
    with pytest.raises(InvalidValue, match="not one of"):
        guarded.mark_redaction(db, coach, 1, blobs, "MEMBERSHIP", first, last)
    guarded.mark_redaction(db, coach, 1, blobs, "BANK_ACCOUNT", first, last)

    kept = services.load_transcript(db, 1).utterances[answer]
    assert all(
        kept.words[w].text == "[BANK_ACCOUNT]" and kept.words[w].entity == "BANK_ACCOUNT" for w in digits
    )
    assert _found(db, code_text) == 0
    assert _tone_at(db, blobs, spoken[1].start + 1.2, spoken[1].end - 0.3)
    spans = services.redacted_spans(db, 1)
    assert [(s.entity, s.source) for s in spans] == [("BANK_ACCOUNT", "reviewer"), ("CARD", "detected")]
    assert spans[1].verified is True  # the worker's verification of the card stays with it

    with pytest.raises(PermissionDenied):
        guarded.unmark_redaction(db, coach, 1, blobs, 1, "false finding: this is an order number")
    guarded.unmark_redaction(db, compliance, 1, blobs, 1, "false finding: this is an order number")
    assert [s.entity for s in services.redacted_spans(db, 1)] == ["BANK_ACCOUNT"]
    assert "[CARD]" not in " ".join(u.text for u in services.load_transcript(db, 1).utterances)
    assert not _tone_at(db, blobs, spoken[3].start + 1.0, spoken[3].end - 1.0)
    card = services.load_transcript(db, 1).utterances[_said_during(heard, spoken[3])]
    assert _found(db, _digits_as_said(card, _digit_words(card))) == 1

    actions = [(r.action, r.details) for r in audit.list_audit(db, _principal(db, "admin"), limit=20)]
    marked = next(details for action, details in actions if action == "redaction_marked")
    unmarked = next(details for action, details in actions if action == "redaction_unmarked")
    assert (
        marked["entity"] == "BANK_ACCOUNT" and unmarked["reason"] == "false finding: this is an order number"
    )
    assert code_text not in json.dumps([marked, unmarked])  # types, positions and reasons, never the words
