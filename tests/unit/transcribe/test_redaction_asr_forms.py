# ruff: noqa: E501  (each heard sentence and what it should give read best on one line)
"""What Whisper (tiny.en, base) wrote when synthetic callers read numbers out in bench.redaction,
word for word, and what redaction must find in it: each case failed before its fix."""

from __future__ import annotations

from dataclasses import replace

from transcribe.redaction.detect import SaidWord, find_entities
from transcribe.redaction.entities import ENTITY_TYPES, RedactionOptions
from transcribe.redaction.stage import redact_transcript
from transcribe.types import Speaker, TranscribeOptions, Transcript, Utterance, Word

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


def test_an_iban_the_diarization_split_between_the_two_speakers() -> None:
    # A mono call: the embedded diarization gave "NL71 ABNA" to the agent, the digits to the caller.
    words = [
        SaidWord("What", "S1"), SaidWord("is", "S1"), SaidWord("your", "S1"), SaidWord("event?", "S1"),
        SaidWord("Sure,", "S1"), SaidWord("it", "S1"), SaidWord("is", "S1"), SaidWord("NL71", "S1"),
        SaidWord("ABNA", "S1"), SaidWord("1118098591.", "S2"), SaidWord("Thank", "S1"), SaidWord("you.", "S1"),
    ]  # fmt: skip
    findings = find_entities(words, EVERYTHING)
    assert [(f.entity, f.words) for f in findings] == [("IBAN", (7, 8, 9))]


def test_numbers_of_two_speakers_without_a_checksum_stay_apart() -> None:
    words = [SaidWord(w, "S1") for w in "my order is 4111 1111".split()] + [
        SaidWord(w, "S2") for w in "1111 1112 thanks".split()
    ]
    assert find_entities(words, EVERYTHING) == ()


def test_an_iban_whose_checksum_asr_broke_is_found_by_its_shape() -> None:
    # The agent's "IBAN" heard as "event?", so no cue; a letter of RABO lost.
    assert said("What is your event? Sure, it is NL72, RAB7343157458 Thank you.") == [
        ("IBAN", "NL72, RAB7343157458")
    ]
    # "N L seven seven, I N G B, ..." heard as "in L77, I and GB0375207826."
    assert said("Sure, it is in L77, I and GB0375207826.") == [("IBAN", "GB0375207826.")]
    assert said("mijn IBAN is N L negen een A B N A nul vier een zeven een zes vier drie nul een") == [
        ("IBAN", "N L negen een A B N A nul vier een zeven een zes vier drie nul een")
    ]


def test_an_iban_whose_letters_asr_misheard_is_found_by_its_make_up() -> None:
    # "N L seven zero I N G B six three eight four seven zero two four nine six", no cue heard.
    assert said("Sure, the demand L -M -0 -N -D -V -6 -3 -8 -4 -M -0 -2 -4 -9 -6.") == [
        ("IBAN", "L -M -0 -N -D -V -6 -3 -8 -4 -M -0 -2 -4 -9 -6.")
    ]
    # "N L eight six I N G B eight three two five ...": the country and check digits stay heard.
    assert said("Sure, it is an L86 and DV8325674827.") == [("IBAN", "DV8325674827.")]
    # "N L six nine, I N G B, ...": "-6i" is six and I.
    assert said("Sure, the demand L -6i -N -B -B -4 -6 -2 -N -1 -4 -5 -3 -4 -5.") == [
        ("IBAN", "L -6i -N -B -B -4 -6 -2 -N -1 -4 -5 -3 -4 -5.")
    ]
    # Whisper's "M &L" for "N L".
    assert said("Sure, it is M &L 3 4, M &L 2, 912, 942, 0, 5, 5.") == [
        ("IBAN", "M &L 3 4, M &L 2, 912, 942, 0, 5, 5.")
    ]
    # A code announced as another kind of number is not an IBAN; nor are fewer than ten digits.
    assert [entity for entity, _ in said("your order number is AB 1234 5678 90")] != ["IBAN"]
    assert said("the model is XR 2000 series 55") == []


def test_an_iban_whose_bank_code_was_said_as_a_word() -> None:
    # NL44 RABO 0123 4567 89 (a valid IBAN): Dutch customers say "Rabo", "Knab", "Bunq" as names.
    assert said("my IBAN is NL44 Rabo 0123 4567 89") == [("IBAN", "NL44 Rabo 0123 4567 89")]
    assert said("sure it is NL 44, Rabo, 0123456789 thanks") == [("IBAN", "NL 44, Rabo, 0123456789")]
    assert said("an L44 Rabobank 0123456789") == [("IBAN", "an L44 Rabobank 0123456789")]
    assert said("N L vier vier rabo nul een twee drie vier vijf zes zeven acht negen") == [
        ("IBAN", "N L vier vier rabo nul een twee drie vier vijf zes zeven acht negen")
    ]
    # A word whose letters the checksum does not take is no bank code: the numbers stay apart.
    assert said("flight KL44 Tuesday 0123456789") == []
    # Letters outside A-Z are no bank code, nor any IBAN's: a chat message's "RÉBO" made the
    # checksum raise ValueError, where it now fails it (the digits after a cue are still covered).
    assert said("NL44 Rébo 0123456789") == said("NL44 RÉBO 0123456789") == []
    assert said("IBAN: NL44 ÀBNA 0417 1643 00") == [("IBAN", "0417 1643 00")]


def test_a_country_code_and_a_short_number_is_not_an_iban() -> None:
    assert said("the NL12 model costs 345 euros") == []
    assert said("flight DE12 leaves at 17 30") == []


def test_a_homophone_next_to_double_is_a_digit() -> None:
    # "two double nine" heard as "too double nine"; "nine double two nine" as "9 double to 9".
    assert said("And the security code on the back of the card. Sure, it is too double nine.") == [
        ("CVC", "too double nine.")
    ]
    assert said("the security code? 9 double to 9") == [("CVC", "9 double to 9")]
    assert said("the security code? I want to double check it first") == []


def test_e_mail_addresses_as_whisper_writes_them() -> None:
    # The top-level domain written with its dot (".com."), "dot" heard as "not".
    assert said("it is Peter Dot Peter at telecomm .com. Thank you.") == [
        ("EMAIL", "Peter Dot Peter at telecomm .com.")
    ]
    assert said("it is Sophie not Peter at Mailhouse .com Thank you.") == [
        ("EMAIL", "Sophie not Peter at Mailhouse .com")
    ]
    assert said("it is Dan .com at Mailhouse .com Thank you.") == [("EMAIL", "Dan .com at Mailhouse .com")]


def test_e_mail_addresses_asked_for_whose_at_asr_ran_into_a_word() -> None:
    assert said("What is your email address? Sure, it is Jan .genettellercom .com. Thank you.") == [
        ("EMAIL", "Jan .genettellercom .com.")
    ]
    assert said("What is your email address? Sure, did you remember not to get an SMAOLOCKS dot com?") == [
        ("EMAIL", "SMAOLOCKS dot com?")
    ]
    # Without a question about e-mail, a web address is not one.
    assert said("you can order on example .com or in the shop") == []
    assert said("I do not know, look at the website dot com") == []


def test_or_between_two_digits_is_four() -> None:
    # "six four five" heard as "6 or 5".
    assert said("And the security code on the back of the card. Sure, it is 6 or 5.") == [("CVC", "6 or 5.")]
    assert said("it takes 5 or 6 days") == []


def test_fricatives_the_telephone_band_blurs_between_two_digits_are_digits() -> None:
    # "zero six eight eight, three four six five, six four" over an 8 kHz line.
    assert said("On which phone number can we reach you? sure it is 0 fix 8 8 3 4 fix 5 6 4") == [
        ("PHONE", "0 fix 8 8 3 4 fix 5 6 4")
    ]
    assert said("And the security code on the back of the card. Sure, it is 8 free 3.") == [
        ("CVC", "8 free 3.")
    ]
    # Only a word between two digits is one.
    assert said("the fix is free for you, it takes 5 days") == []


def test_dutch_number_words_typed_without_their_diaeresis() -> None:
    pairs = " ".join(["tweeenveertig"] * 8)  # 4242 4242 4242 4242
    assert said(f"mijn kaartnummer is {pairs} dank u") == [("CARD", pairs)]
    assert said("de beveiligingscode is drie eén drie") == [("CVC", "drie eén drie")]


def _utterance(speaker: str, start: float, text: str) -> Utterance:
    words = tuple(
        Word(round(start + 0.4 * i, 3), round(start + 0.4 * i + 0.3, 3), f" {token}", 0.9, speaker)
        for i, token in enumerate(text.split())
    )
    return Utterance(speaker, words[0].start, words[-1].end, text, words)


def test_a_finding_across_speakers_covers_exactly_the_times_of_its_words() -> None:
    options = TranscribeOptions(redact=tuple(ENTITY_TYPES))
    heard = Transcript(
        language="nl",
        duration=30.0,
        speakers=(Speaker("S1", "agent", None), Speaker("S2", "customer", None)),
        utterances=(
            _utterance("S1", 0.0, "Wat is uw rekening? Ja, dat is NL71 ABNA"),
            _utterance("S2", 4.0, "1118098591. Dank u."),
            _utterance("S2", 8.0, "mijn kaartnummer is " + " ".join(["tweeenveertig"] * 8)),
        ),
        options=options,
        models={"asr": "base", "diarization": "embedded"},
    )
    redaction = redact_transcript(replace(heard, options=options))
    spans = [(s.entity, s.speaker, s.start, s.end, "".join(s.heard)) for s in redaction.spans]
    first, second = heard.utterances[0].words, heard.utterances[2].words
    assert spans == [
        ("IBAN", "S1", first[7].start, heard.utterances[1].words[0].end, " NL71 ABNA 1118098591."),
        ("CARD", "S2", second[3].start, second[-1].end, " tweeenveertig" * 8),
    ]
    kept = redaction.transcript
    assert [w.entity for w in kept.utterances[0].words] == [None] * 7 + ["IBAN"] * 2
    assert [w.text for w in kept.utterances[1].words] == ["[IBAN]", " Dank", " u."]


def test_whispers_letter_o_for_oh_and_a_dash_between_groups() -> None:
    assert said("On which phone number can we reach you? o 6 1 2 3 4 5 6 7 8") == [
        ("PHONE", "o 6 1 2 3 4 5 6 7 8")
    ]
    assert said("bel me op 06 - 12345678 graag") == [("PHONE", "06 - 12345678")]
    assert said("card number 4 O 5 7 6 0 8 1 1 6 0 5 0 1 9 0") == [
        ("CARD", "4 O 5 7 6 0 8 1 1 6 0 5 0 1 9 0")
    ]
    # After letters an O is a letter: RABO.
    assert said("it's N L 1 0 R A B O 0 5 8 7 2 4 1 9 4 9") == [
        ("IBAN", "N L 1 0 R A B O 0 5 8 7 2 4 1 9 4 9")
    ]


def test_an_before_the_l_of_a_dutch_iban_is_the_letter_n() -> None:
    # "N L one zero R A B O ..." heard as "an L1 -0 -R -A -B -O -0 -5 ...".
    heard = "Sure, it is an L1 -0 -R -A -B -O -0 -5 -8 -7 -2 -4 -1 -9 -4 -9. Thank you."
    assert said(heard) == [("IBAN", "an L1 -0 -R -A -B -O -0 -5 -8 -7 -2 -4 -1 -9 -4 -9.")]
    assert said("I live in L5 and call 4 times") == []


def test_a_card_whose_cue_and_one_digit_asr_lost_is_found_by_its_length() -> None:
    # "card number" heard as "part number", "five zero four eight" as "time 0 4 8": 15 digits, Luhn
    # broken, no cue left. Nothing else said in a call is that long; a number announced as another
    # kind is left alone.
    assert said("Can I have your part number please sure it in time 0 4 8 7 6 4 7 5 9 3 8 2 4 2 1") == [
        ("CARD", "0 4 8 7 6 4 7 5 9 3 8 2 4 2 1")
    ]
    # "four zero five seven, six zero eight one, ...": the sentence ASR ended after "4 .05." keeps
    # those three digits apart (a card's first six may be shown, as PCI DSS allows).
    assert said("Sure, it's in 4 .05. 6 .081. 1 .05. 0 .05. 0 .05. 0 .05.") == [
        ("CARD", "6 .081. 1 .05. 0 .05. 0 .05. 0 .05.")
    ]
    assert said("your tracking number is 0 4 8 7 6 4 7 5 9 3 8 2 4 2 1") == []
    assert said("I paid 40 in March and 25 in May") == []


def test_a_dash_before_a_number_word_joins_it_to_the_digits() -> None:
    # "four nine double four, one oh five oh, six one double three, oh seven six five" (tiny.en).
    heard = "Sure, it is 4 -9 -double -4 -105 -0 -6 -1 -double -3 -0 -7 -6 -5."
    assert said(heard) == [("CARD", "4 -9 -double -4 -105 -0 -6 -1 -double -3 -0 -7 -6 -5.")]
