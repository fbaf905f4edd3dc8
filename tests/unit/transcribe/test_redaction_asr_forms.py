# ruff: noqa: E501  (each heard sentence and what it should give read best on one line)
"""What Whisper (tiny.en, base) wrote when synthetic callers read numbers out in bench.redaction,
word for word, and what redaction must find in it: each case failed before its fix."""

from __future__ import annotations

from transcribe.redaction.detect import SaidWord, find_entities
from transcribe.redaction.entities import ENTITY_TYPES, RedactionOptions

EVERYTHING = RedactionOptions(entities=frozenset(ENTITY_TYPES))


def said(sentence: str, options: RedactionOptions = EVERYTHING) -> list[tuple[str, str]]:
    words = sentence.split()
    findings = find_entities([SaidWord(word, "caller") for word in words], options)
    return [(f.entity, " ".join(words[i] for i in f.words)) for f in findings]


def test_a_security_code_whose_cue_asr_followed_with_another_cue_word() -> None:
    # "back of the card" heard as "bank of the card": "bank" and "card" end nearer than "security
    # code", but three digits answer neither an account nor a card.
    assert said("and the security code on the bank of the card. Sure, it is 954.") == [("CVC", "954.")]


def test_a_security_code_asr_lost_one_digit_of() -> None:
    # "four double six": the "double" was lost.
    assert said("And the security code on the back of the card. Sure, it is 4 .6.") == [("CVC", "4 .6.")]
    assert said("And the security code on the back of the card. Sure, I have 2 cards") == []
