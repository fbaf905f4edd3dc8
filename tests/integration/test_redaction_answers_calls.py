"""The answer cover on real audio (flite voices, the embedded tiny.en): what the customer says
after the agent asks for payment data is covered and verified whatever it was; a refusal and a
mere mention of a card leave the call as it was heard."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bench.spoken_calls import SpokenLine, write_call
from transcribe import audio, pipeline
from transcribe.call import checked_overrides
from transcribe.models import load_whisper
from transcribe.redaction.audio import redacted_samples
from transcribe.redaction.rehear import redact_call
from transcribe.redaction.stage import RedactedSpan, Redaction
from transcribe.redaction.verify import verify_redaction
from transcribe.types import TranscribeOptions

OPTIONS = TranscribeOptions(diarization="channels")


def _redacted(
    tmp_path: Path, lines: tuple[SpokenLine, ...], options: TranscribeOptions = OPTIONS
) -> tuple[Redaction, tuple[SpokenLine, ...], audio.Audio]:
    timed = write_call(tmp_path / "call.wav", lines)
    decoded = audio.decode(tmp_path / "call.wav")
    heard = pipeline.run(decoded, options, cache_dir=tmp_path / "models")
    model = load_whisper(options.model, tmp_path / "models", "cpu", "int8")
    return redact_call(model, decoded.samples, heard), timed, decoded


@pytest.mark.slow
def test_whatever_the_customer_answers_to_a_request_is_covered_and_verified(tmp_path: Path) -> None:
    # Words no detector takes for a card number: the cover does not depend on hearing digits.
    lines = (
        SpokenLine(0, "rms", "Can I have your card number please?"),
        SpokenLine(1, "slt", "Sure, it is the blue one with a picture of a lighthouse."),
        SpokenLine(0, "rms", "Thank you, that is all I need."),
    )
    redaction, timed, decoded = _redacted(tmp_path, lines)
    answer = timed[1]
    card = [s for s in redaction.spans if s.entity == "CARD"]
    assert card, redaction.spans
    assert min(s.start for s in card) <= answer.start + 0.3 and max(s.end for s in card) >= answer.end - 0.3
    assert all(s.end <= timed[2].start + 0.3 for s in card)  # not into the agent's next words
    kept = [w for u in redaction.transcript.utterances for w in u.words]
    in_answer = [w for w in kept if answer.start <= (w.start + w.end) / 2 <= answer.end]
    assert in_answer and all(w.entity == "CARD" and w.text == "[CARD]" for w in in_answer)
    assert any(w.entity is None for w in kept)  # the agent's words stay
    model = load_whisper(OPTIONS.model, tmp_path / "models", "cpu", "int8")
    covered = redacted_samples(decoded.samples, [(s.start, s.end) for s in redaction.spans])
    checks = verify_redaction(model, covered, card, OPTIONS)
    assert checks and all(check.verified for check in checks)
    assert not any("lighthouse" in check.heard_again.lower() for check in checks)


@pytest.mark.slow
def test_the_cover_follows_the_answer_cover_settings_recorded_in_the_transcript(tmp_path: Path) -> None:
    """``[pipeline] "answer_cover.entities" = []`` in the settings turns the cover off: the same
    answer as above stays as it was heard, and the transcript says why."""
    lines = (
        SpokenLine(0, "rms", "Can I have your card number please?"),
        SpokenLine(1, "slt", "Sure, it is the blue one with a picture of a lighthouse."),
        SpokenLine(0, "rms", "Thank you, that is all I need."),
    )
    off = replace(OPTIONS, pipeline_params=checked_overrides({"answer_cover.entities": []}))
    redaction, _, _ = _redacted(tmp_path, lines, off)
    assert redaction.spans == ()
    assert ("answer_cover.entities", ()) in redaction.transcript.options.pipeline_params


@pytest.mark.slow
@pytest.mark.parametrize(
    "agent, customer",
    [
        ("Can I have your card number please?", "Sorry, I don't have it with me right now."),
        ("I see that your card was declined yesterday.", "Yes, my card was declined at the shop."),
    ],
    ids=["refusal", "mention"],
)
def test_a_refusal_and_a_mention_are_not_redacted(tmp_path: Path, agent: str, customer: str) -> None:
    lines = (
        SpokenLine(0, "rms", agent),
        SpokenLine(1, "slt", customer),
        SpokenLine(0, "rms", "Thank you, that is all I need."),
    )
    redaction, _, _ = _redacted(tmp_path, lines)
    assert redaction.spans == ()


@pytest.mark.slow
def test_a_covered_answer_whose_digits_were_never_heard_fails_verification_when_digits_remain(
    tmp_path: Path,
) -> None:
    """Verification of a span whose words say no digit (ASR misheard the answer) listens for any
    number in its stretch: checked here on the original audio, where nothing was covered."""
    lines = (
        SpokenLine(0, "rms", "And what is the security code on the back?"),
        SpokenLine(1, "slt", "Seven three seven."),
        SpokenLine(0, "rms", "Thank you, that is all I need."),
    )
    timed = write_call(tmp_path / "call.wav", lines)
    decoded = audio.decode(tmp_path / "call.wav")
    misheard = RedactedSpan("CVC", "S2", timed[1].start, timed[1].end, (), (" a", " free", " item."))
    model = load_whisper(OPTIONS.model, tmp_path / "models", "cpu", "int8")
    (check,) = verify_redaction(model, decoded.samples, [misheard], OPTIONS)
    assert not check.verified and len(check.leaked) >= 3 and check.leaked in "737"
