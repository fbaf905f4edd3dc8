"""The redaction stage on a transcript: redacted words keep their timing and speaker, the type
is a field of its own, utterance text names each finding once, what was heard is kept apart, and a
second hearing of an utterance adds what it finds in the first hearing's time."""

from __future__ import annotations

from dataclasses import replace

from transcribe.formats import from_json, to_json, to_txt
from transcribe.redaction.answers import AnswerCoverParams
from transcribe.redaction.stage import SecondHearing, redact_transcript
from transcribe.types import Speaker, TranscribeOptions, Transcript, Utterance, Word


def _utterance(speaker: str, start: float, text: str) -> Utterance:
    words = tuple(
        Word(round(start + 0.4 * i, 3), round(start + 0.4 * i + 0.3, 3), f" {token}", 0.9, speaker)
        for i, token in enumerate(text.split())
    )
    return Utterance(speaker, words[0].start, words[-1].end, text, words)


DEFAULTS = TranscribeOptions()


def _call(*utterances: Utterance, options: TranscribeOptions = DEFAULTS) -> Transcript:
    return Transcript(
        language="en",
        duration=60.0,
        speakers=(Speaker("S1", "agent", 0), Speaker("S2", "customer", 1)),
        utterances=utterances,
        options=options,
        models={"asr": "tiny.en", "diarization": "channels"},
    )


def test_a_card_read_across_segments_is_redacted_word_by_word_with_timing_kept() -> None:
    heard = _call(
        _utterance("S1", 0.0, "can I have the card number please"),
        _utterance("S2", 3.0, "sure it's four one one one one one one one"),
        _utterance("S1", 6.3, "mm-hmm"),
        _utterance("S2", 7.0, "one one one one, one one one one."),
        _utterance("S1", 11.0, "and the security code?"),
        _utterance("S2", 13.0, "seven three seven"),
    )
    redaction = redact_transcript(heard)
    kept = redaction.transcript
    assert [(s.entity, s.speaker) for s in redaction.spans] == [("CARD", "S2"), ("CVC", "S2")]
    card = redaction.spans[0]
    assert card.heard[0] == " four" and card.heard[-1] == " one." and len(card.heard) == 16
    assert (card.start, card.end) == (heard.utterances[1].words[2].start, heard.utterances[3].words[-1].end)
    assert kept.utterances[1].text == "sure it's [CARD]"
    assert kept.utterances[3].text == "[CARD]"
    assert kept.utterances[5].text == "[CVC]"
    for heard_u, kept_u in zip(heard.utterances, kept.utterances, strict=True):
        assert [(w.start, w.end, w.speaker) for w in heard_u.words] == [
            (w.start, w.end, w.speaker) for w in kept_u.words
        ]
    assert [(w.text, w.entity) for w in kept.utterances[3].words] == [("[CARD]", "CARD")] * 8
    assert heard.utterances[1].words[2].text == " four"  # the stage changes nothing it was given
    assert kept.utterances[0] is heard.utterances[0]


def test_transcript_json_and_exports_carry_placeholders_and_the_type_never_the_digits() -> None:
    heard = _call(_utterance("S2", 0.0, "my iban is NL91 ABNA 0417 1643 00 thanks"))
    kept = redact_transcript(heard).transcript
    exported = to_json(kept)
    assert "0417" not in exported and "ABNA" not in exported and "NL91" not in exported
    assert "0417" not in to_txt(kept)
    words = from_json(exported).utterances[0].words
    assert [(w.text, w.entity) for w in words][3:8] == [("[IBAN]", "IBAN")] * 5
    assert words[3].start == heard.utterances[0].words[3].start


def test_what_is_redacted_follows_the_options() -> None:
    said = _utterance("S2", 0.0, "call me on oh six one two three four five six seven eight")
    assert redact_transcript(_call(said)).spans == ()
    with_phones = TranscribeOptions(redact=("CARD", "PHONE"))
    assert [s.entity for s in redact_transcript(_call(said, options=with_phones)).spans] == ["PHONE"]
    nothing = replace(TranscribeOptions(), redact=())
    card = _utterance("S2", 0.0, "four one one one one one one one one one one one one one one one")
    assert redact_transcript(_call(card, options=nothing)).spans == ()


def test_a_number_found_only_in_a_second_hearing_covers_the_words_first_heard_in_its_time() -> None:
    # What tiny.en wrote for a security code read out in a whole call, and what it wrote for the
    # same answer decoded alone (bench.redaction).
    heard = _call(
        _utterance("S1", 0.0, "and what is the security code?"),
        _utterance("S2", 3.0, "sure it is too high in four."),
        _utterance("S1", 6.0, "thank you"),
    )
    # The second hearing alone: the answer to the request is not covered as such here
    # (test_redaction_answers).
    no_cover = AnswerCoverParams(entities=frozenset())
    assert redact_transcript(heard, cover=no_cover).spans == ()
    alone = _utterance("S2", 3.0, "sure it is 2 9 4.")
    again = [SecondHearing(1, alone.words)]

    redaction = redact_transcript(heard, again, no_cover)

    [span] = redaction.spans
    assert (span.entity, span.speaker) == ("CVC", "S2")
    # "2 9 4." took 4.2-5.3 s alone, where "too high in" was first heard; "four." just after it
    # says a digit, so it goes with them.
    assert span.heard == (" too", " high", " in", " four.")
    assert redaction.transcript.utterances[1].text == "sure it is [CVC]"
    assert redaction.transcript.utterances[2] is heard.utterances[2]


def test_a_second_hearing_adds_nothing_the_first_found_or_that_is_no_number() -> None:
    heard = _call(
        _utterance("S1", 0.0, "what is your membership code"),
        _utterance("S2", 2.5, "7 7 3 1 2"),
        _utterance("S1", 4.5, "can I have the card number please"),
        _utterance("S2", 8.0, "four one one one one one one one one one one one one one one one"),
        _utterance("S2", 15.0, "and my name is Anna"),
    )
    first = redact_transcript(heard)
    assert [span.entity for span in first.spans] == ["CARD"]
    again = [
        # Heard again with a digit lost and a little later: still the card the first hearing found,
        # and the membership code's digits before it are not taken into it.
        SecondHearing(3, _utterance("S2", 8.2, "4 1 1 1 1 1 1 1 1 1 1 1 1 1 1").words),
        SecondHearing(4, _utterance("S2", 15.0, "and my name is Hannah").words),
    ]
    assert redact_transcript(heard, again) == first
