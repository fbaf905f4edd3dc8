"""The redaction stage on a transcript: redacted words keep their timing and speaker, the type
is a field of its own, utterance text names each finding once, and what was heard is kept apart."""

from __future__ import annotations

from dataclasses import replace

from transcribe.formats import from_json, to_json, to_txt
from transcribe.redaction.stage import redact_transcript
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
