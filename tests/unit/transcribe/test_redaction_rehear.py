"""The second hearing for redaction, on real audio (flite voices, tiny.en): what may hold a number
is decoded again on its own, in call time, and nothing else is."""

from __future__ import annotations

from pathlib import Path

import pytest
from faster_whisper import WhisperModel

from bench.spoken_calls import SpokenLine, write_call
from transcribe import pipeline
from transcribe.audio import decode
from transcribe.redaction.detect import says_cue
from transcribe.redaction.rehear import RehearParams, hear_numbers_again, redact_call
from transcribe.types import TranscribeOptions

LINES = (
    SpokenLine(0, "rms", "Good morning, how can I help you?"),
    SpokenLine(1, "slt", "I would like to pay my bill."),
    SpokenLine(0, "rms", "Of course. What is the security code on the back of your card?"),
    SpokenLine(1, "slt", "Seven three seven."),
)


@pytest.mark.slow
def test_what_may_hold_a_number_is_heard_again_alone_and_nothing_before_it(
    tmp_path: Path, tiny_en: WhisperModel, models_cache: Path
) -> None:
    path = tmp_path / "call.wav"
    spoken = write_call(path, LINES)
    call = decode(path)
    heard = pipeline.run(call, TranscribeOptions(diarization="channels"), cache_dir=models_cache)

    again = hear_numbers_again(tiny_en, call.samples, heard)

    reheard = {hearing.utterance for hearing in again}
    asked = spoken[2].start - 0.5
    answer = {
        i for i, u in enumerate(heard.utterances) if u.speaker == "S2" and u.start >= spoken[3].start - 0.5
    }
    assert answer and answer <= reheard
    assert all(heard.utterances[i].start >= asked for i in reheard)  # the greeting and the bill: no cue
    pad = RehearParams().pad_s + 0.05
    for hearing in again:
        utterance = heard.utterances[hearing.utterance]
        assert all(utterance.start - pad <= w.start <= w.end <= utterance.end + pad for w in hearing.words)

    redaction = redact_call(tiny_en, call.samples, heard)
    assert [(span.entity, span.speaker) for span in redaction.spans] == [("CVC", "S2")]


@pytest.mark.slow
def test_a_spoken_date_of_birth_and_address_are_redacted_when_configured(
    tmp_path: Path, tiny_en: WhisperModel, models_cache: Path
) -> None:
    path = tmp_path / "call.wav"
    write_call(
        path,
        (
            SpokenLine(0, "rms", "Before I go on, can you confirm your date of birth?"),
            SpokenLine(1, "slt", "Yes, it is the fifth of March, nineteen eighty two."),
            SpokenLine(0, "rms", "Thank you. And what is your address?"),
            SpokenLine(1, "slt", "Twelve Baker Street, London."),
        ),
    )
    options = TranscribeOptions(diarization="channels", redact=("CARD", "CVC", "DOB", "ADDRESS"))
    heard = pipeline.run(decode(path), options, cache_dir=models_cache)

    redaction = redact_call(tiny_en, decode(path).samples, heard)

    assert [(span.entity, span.speaker) for span in redaction.spans] == [("DOB", "S2"), ("ADDRESS", "S2")]
    kept = " ".join(u.text for u in redaction.transcript.utterances if u.speaker == "S2").lower()
    assert "[dob]" in kept and "[address]" in kept
    assert not any(said in kept for said in ("march", "82", "eighty", "baker", "london"))


@pytest.mark.slow
def test_the_request_before_a_number_is_heard_again_with_the_request_prompt(
    tmp_path: Path, tiny_en: WhisperModel, models_cache: Path
) -> None:
    path = tmp_path / "call.wav"
    spoken = write_call(
        path,
        (
            SpokenLine(0, "rms", "Good morning, how can I help you?"),
            SpokenLine(1, "slt", "I would like to change my bank details."),
            SpokenLine(0, "rms", "Of course. What is your IBAN?"),  # tiny.en: "What is your event?"
            SpokenLine(1, "slt", "N L nine one, A B N A, zero four one seven, one six four three, zero zero"),
        ),
    )
    call = decode(path)
    heard = pipeline.run(call, TranscribeOptions(diarization="channels"), cache_dir=models_cache)

    def starting_after(speaker: str, line: SpokenLine) -> set[int]:
        return {
            i for i, u in enumerate(heard.utterances) if u.speaker == speaker and u.start >= line.start - 0.5
        }

    request = starting_after("S1", spoken[2])
    greeting = {i for i, u in enumerate(heard.utterances) if u.end <= spoken[1].start}
    reheard = {hearing.utterance for hearing in hear_numbers_again(tiny_en, call.samples, heard)}
    assert request and request <= reheard and starting_after("S2", spoken[3]) <= reheard
    assert reheard.isdisjoint(greeting)
    once = {
        h.utterance for h in hear_numbers_again(tiny_en, call.samples, heard, RehearParams(request_prompt=""))
    }
    assert request.isdisjoint(once) or any(says_cue(heard.utterances[i].text) for i in request)
