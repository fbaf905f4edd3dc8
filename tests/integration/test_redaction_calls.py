# ruff: noqa: E501  (the lines the voices read are kept whole)
"""Redaction end to end on real audio: a caller reads a card number out (flite voices), the
embedded model transcribes it, and what is stored, indexed and exported is the redacted call."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bench.spoken_calls import SpokenLine, write_call
from earshot.cli import main

CARD = "4519961983914549"  # Luhn-valid
LINES = (
    SpokenLine(0, "rms", "Thank you for calling. Can I have your card number please?"),
    SpokenLine(1, "slt", "Sure, it's four five one nine, nine six one nine, eight three nine one, four five four nine."),
    SpokenLine(0, "rms", "Thank you. And what is the security code on the back?"),
    SpokenLine(1, "slt", "Seven three seven."),
    SpokenLine(0, "rms", "Great, the payment is done. Goodbye."),
)  # fmt: skip


def earshot(data_dir: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--data-dir", str(data_dir), *args], catch_exceptions=False)


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
