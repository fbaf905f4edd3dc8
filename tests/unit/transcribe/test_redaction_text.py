# ruff: noqa: E501  (each spoken sentence and what it should give read best on one line)
"""Text redaction: spoken and written forms of each entity, in English and Dutch, mapped back to
the words that said them; numbers that only look like one are left alone."""

from __future__ import annotations

import pytest

from transcribe.redaction.checksums import (
    bsn_valid,
    card_number_valid,
    expiry_valid,
    iban_valid,
    ssn_shape_valid,
)
from transcribe.redaction.detect import SaidWord, find_entities
from transcribe.redaction.entities import ENTITY_TYPES, RedactionOptions
from transcribe.redaction.text import redact_text

EVERYTHING = RedactionOptions(entities=frozenset(ENTITY_TYPES))


def said(sentence: str, options: RedactionOptions = EVERYTHING) -> list[tuple[str, str]]:
    words = sentence.split()
    findings = find_entities([SaidWord(word, "caller") for word in words], options)
    return [(f.entity, " ".join(words[i] for i in f.words)) for f in findings]


def test_checksums_accept_known_good_numbers_and_refuse_one_digit_off() -> None:
    assert card_number_valid("4111111111111111") and not card_number_valid("4111111111111112")
    assert card_number_valid("5555555555554444") and card_number_valid("378282246310005")
    assert not card_number_valid("0000000000000000")  # Luhn-valid, but no card network starts with 0
    assert iban_valid("NL91ABNA0417164300") and not iban_valid("NL91ABNA0417164301")
    assert iban_valid("DE89370400440532013000") and not iban_valid("NL91ABNA04171643")  # NL is 18 long
    assert bsn_valid("111222333") and not bsn_valid("111222334")
    assert (
        ssn_shape_valid("123456789") and not ssn_shape_valid("666123456") and not ssn_shape_valid("123004567")
    )
    assert expiry_valid("0327") and expiry_valid("327") and not expiry_valid("1327")


@pytest.mark.parametrize(
    ("sentence", "card"),
    [
        ("my card is four one one one one one one one one one one one one one one one thanks", None),
        ("it's four one one one, one one one one, one one one one, one one one one.", None),
        ("five five five five, five five five five, five five five five, four four four four", None),
        ("five five double five, five triple five, five five five five, four four double four", None),
        ("four one one one one one one one, uh, one one one one one one one one", None),
        ("card number 4111 1111 1111 1111 please", "4111 1111 1111 1111"),
        ("card number 4111-1111-1111-1111.", "4111-1111-1111-1111."),
        ("three seven eight two eight two two four six three one oh oh oh five", None),
        ("thirty seven eighty two eighty two twenty four sixty three ten double oh five", None),
        ("mijn kaart is vier een een een een een een een een een een een een een een een", None),
        ("vijf vijf vijf vijf vijf vijf vijf vijf vijf vijf vijf vijf vier vier vier vier", None),
        (
            "vijfenvijftig vijfenvijftig vijfenvijftig vijfenvijftig vijfenvijftig vijfenvijftig vierenveertig vierenveertig",
            None,
        ),
        ("het nummer is 4111 1111 1111 1111 dank je", "4111 1111 1111 1111"),
    ],
)
def test_card_numbers_in_many_spoken_forms(sentence: str, card: str | None) -> None:
    findings = said(sentence)
    assert [entity for entity, _ in findings] == ["CARD"], findings
    if card is not None:
        assert findings[0][1] == card
    else:  # the whole spoken number, and not one word around it
        words = findings[0][1].split()
        assert words[0].lower().strip(",.") in {
            "four",
            "five",
            "three",
            "thirty",
            "vier",
            "vijf",
            "vijfenvijftig",
        }
        assert words[-1].strip(",.") in {"one", "four", "five", "een", "vier", "vierenveertig"}


def test_whisper_homophones_between_digits_are_digits_and_elsewhere_words() -> None:
    assert said("it's 4 5 1 9 9 6 1 9 8 3 9 1 for 5 4 9") == [("CARD", "4 5 1 9 9 6 1 9 8 3 9 1 for 5 4 9")]
    assert said("it's 4 to 5 for you") == []


def test_digits_asked_for_as_a_card_are_redacted_when_asr_lost_one() -> None:
    # Luhn fails (a digit misheard), but the agent asked for the card: most of a card is still a card.
    assert said("can I have the card number? 4 5 1 9 9 6 1 9 8 3 9 1 5 4 9") == [
        ("CARD", "4 5 1 9 9 6 1 9 8 3 9 1 5 4 9")
    ]


def test_an_iban_or_phone_number_asked_for_is_redacted_when_asr_garbled_it() -> None:
    # As tiny.en heard a synthetic voice read "N L five seven, A B N A, nine one six two, ..." out.
    assert said(
        "What is your IBAN? Sure, the demand L -5 salmon, me and A -9 -1 -6 -2 -4 -5 -1 -0 -1 -7."
    ) == [("IBAN", "-9 -1 -6 -2 -4 -5 -1 -0 -1 -7.")]
    assert said("On which phone number can we reach you? Sure, it is nearly 6 -1 -0, 9 -8 -3 -1 -8.") == [
        ("PHONE", "6 -1 -0, 9 -8 -3 -1 -8.")
    ]
    assert said("my phone broke, call me at home after 5 pm") == []


def test_card_numbers_across_segments_and_around_the_other_partys_words() -> None:
    words = [
        SaidWord("four", "customer"), SaidWord("one", "customer"), SaidWord("one", "customer"),
        SaidWord("one", "customer"), SaidWord("mm-hmm", "agent"), SaidWord("one", "customer"),
        SaidWord("one", "customer"), SaidWord("one", "customer"), SaidWord("one,", "customer"),
        SaidWord("yes", "agent"), SaidWord("1111", "customer"), SaidWord("1111.", "customer"),
    ]  # fmt: skip
    findings = find_entities(words, RedactionOptions())
    assert [(f.entity, f.words) for f in findings] == [("CARD", (0, 1, 2, 3, 5, 6, 7, 8, 10, 11))]


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("what's the security code on the back? seven three seven", [("CVC", "seven three seven")]),
        ("en de beveiligingscode? zeven drie zeven", [("CVC", "zeven drie zeven")]),
        ("and the security code on the back of the card? two nine four", [("CVC", "two nine four")]),
        ("and the security code on the back? Sure, it is o7 2.", [("CVC", "o7 2.")]),
        ("and the CVC is one two three four", [("CVC", "one two three four")]),
        ("it expires oh three twenty seven", [("EXPIRY", "oh three twenty seven")]),
        ("the expiry date is twelve twenty six", [("EXPIRY", "twelve twenty six")]),
        ("de vervaldatum is nul drie zevenentwintig", [("EXPIRY", "nul drie zevenentwintig")]),
        ("card 4111 1111 1111 1111 exp 12/27 CVC 123", [("CARD", "4111 1111 1111 1111"), ("EXPIRY", "12/27"), ("CVC", "123")]),
        (
            "four one one one one one one one one one one one one one one one twelve twenty seven one two three",
            [("CARD", "four one one one one one one one one one one one one one one one"), ("EXPIRY", "twelve twenty seven"), ("CVC", "one two three")],
        ),
    ],
)  # fmt: skip
def test_security_code_and_expiry_by_their_cue(sentence: str, expected: list[tuple[str, str]]) -> None:
    assert said(sentence) == expected


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("my iban is NL91 ABNA 0417 1643 00", "NL91 ABNA 0417 1643 00"),
        ("mijn iban is N L negen een A B N A nul vier een zeven een zes vier drie nul nul", "N L negen een A B N A nul vier een zeven een zes vier drie nul nul"),
        ("it's DE89 3704 0044 0532 0130 00.", "DE89 3704 0044 0532 0130 00."),
        ("IBAN: NL91ABNA0417164300", "NL91ABNA0417164300"),
    ],
)  # fmt: skip
def test_ibans_by_their_checksum(sentence: str, expected: str) -> None:
    assert said(sentence) == [("IBAN", expected)]


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("mijn bsn is een een een twee twee twee drie drie drie", [("BSN", "een een een twee twee twee drie drie drie")]),
        ("mijn burgerservicenummer is 111222333", [("BSN", "111222333")]),
        ("my social security number is one two three, four five, six seven eight nine", [("SSN", "one two three, four five, six seven eight nine")]),
        ("my bank account number is one two three four five six seven eight", [("BANK_ACCOUNT", "one two three four five six seven eight")]),
        ("mijn rekeningnummer is 1234567", [("BANK_ACCOUNT", "1234567")]),
        ("call me on oh six one two three four five six seven eight", [("PHONE", "oh six one two three four five six seven eight")]),
        ("bel me op plus drie een zes een twee drie vier vijf zes zeven acht", [("PHONE", "plus drie een zes een twee drie vier vijf zes zeven acht")]),
        ("it's jan dot devries at example dot com", [("EMAIL", "jan dot devries at example dot com")]),
        ("mail naar piet apenstaartje voorbeeld punt nl", [("EMAIL", "piet apenstaartje voorbeeld punt nl")]),
        ("write to jan.devries@example.com please", [("EMAIL", "jan.devries@example.com")]),
    ],
)  # fmt: skip
def test_national_ids_accounts_phones_and_addresses(sentence: str, expected: list[tuple[str, str]]) -> None:
    assert said(sentence) == expected


@pytest.mark.parametrize(
    "sentence",
    [
        "my order number is one two three four five six seven eight nine",
        "my bsn is one one one two two two three three four",  # fails the eleven-test
        "the reference is four one one one one one one one one one one one one one one two",  # fails Luhn
        "the card ends in four four five one",  # a card's last four are not the card
        "I called at three and you said twenty twenty six",
        "look at the website dot com",
        "I have a question about my bill from the second of March",
        "it costs forty two euros and ninety nine cents",
    ],
)
def test_numbers_that_are_not_an_entity_are_left_alone(sentence: str) -> None:
    assert said(sentence) == []


def test_phone_numbers_and_addresses_only_when_configured() -> None:
    sentence = "call oh six one two three four five six seven eight or jan at example dot com"
    assert said(sentence, RedactionOptions()) == []
    assert [entity for entity, _ in said(sentence)] == ["PHONE", "EMAIL"]


def test_a_message_keeps_its_layout_with_placeholders() -> None:
    message = "Hi,\nmy card is 4111 1111 1111 1111, exp 12/27.\nIBAN: NL91ABNA0417164300. Thanks!"
    redacted = redact_text(message, RedactionOptions())
    assert redacted.text == "Hi,\nmy card is [CARD], exp [EXPIRY].\nIBAN: [IBAN]. Thanks!"
    assert [(f.entity, message[f.start : f.end]) for f in redacted.findings] == [
        ("CARD", "4111 1111 1111 1111"),
        ("EXPIRY", "12/27"),
        ("IBAN", "NL91ABNA0417164300"),
    ]


@pytest.mark.parametrize(
    ("sentence", "date"),
    [
        ("my date of birth is the fifth of March 1982 thanks", "fifth of March 1982"),
        ("date of birth? Yes, March 5th, 1982. Anything else?", "March 5th, 1982."),
        ("I was born on 05/03/1982 in Utrecht", "05/03/1982"),
        (
            "born on the twenty first of may nineteen eighty two, yes",
            "twenty first of may nineteen eighty two,",
        ),
        ("DOB is 3 Feb '75", "3 Feb '75"),
        (
            "mijn geboortedatum is vijf maart negentienhonderdtweeëntachtig",
            "vijf maart negentienhonderdtweeëntachtig",
        ),
        ("ik ben geboren op 12 januari 1990 in Utrecht", "12 januari 1990"),
    ],
)
def test_a_date_said_after_a_birth_cue_is_a_date_of_birth(sentence: str, date: str) -> None:
    assert said(sentence) == [("DOB", date)]


@pytest.mark.parametrize(
    "sentence",
    [
        "the technician comes on the fifth of March at nine",  # a date, but no one's birth
        "may I have your date of birth please",  # "may" with no number beside it
        "my birthday party is on Saturday",
        "born in 1982",  # a year alone is no date
    ],
)
def test_what_is_no_date_of_birth_is_left_alone(sentence: str) -> None:
    assert [entity for entity, _ in said(sentence)] == []


def test_the_date_of_birth_asked_for_by_the_other_party_is_found_in_the_answer() -> None:
    words = [SaidWord(w, "agent") for w in "can you confirm your date of birth".split()]
    words += [SaidWord(w, "caller") for w in "yes it's 12 January 1990".split()]
    findings = find_entities(words, EVERYTHING)
    assert [(f.entity, [words[i].text for i in f.words]) for f in findings] == [
        ("DOB", ["12", "January", "1990"])
    ]


def test_a_date_of_birth_is_redacted_only_where_configured_and_its_digits_are_no_phone_number() -> None:
    message = "Date of birth: 06-12-1981, call me on 06 1234 5678"
    assert redact_text(message, RedactionOptions()).text == message
    configured = RedactionOptions(entities=frozenset({"DOB", "PHONE"}))
    assert redact_text(message, configured).text == "Date of birth: [DOB], call me on [PHONE]"


@pytest.mark.parametrize(
    ("sentence", "address"),
    [
        ("what is your address? It's 12 Baker Street, London. Thanks", "12 Baker Street, London."),
        ("my address is Kerkstraat 12, 3511 AB Utrecht, thank you", "Kerkstraat 12, 3511 AB Utrecht,"),
        ("the postcode is SW1A 1AA yes", "SW1A 1AA"),
        ("ik woon op de Van Baerlestraat 27 in Amsterdam", "Van Baerlestraat 27"),
        ("new address: 221b Old Church Road please", "221b Old Church Road"),
        # As tiny.en wrote flite's "147 Mill Lane, London", "110 Church Road" and "178 Station Road":
        ("and what is your address? Sure, it is 147 mil lane London.", "147 mil lane London."),
        ("and what is your address? Sure, it is 100 and church road, bleeds.", "100 and church road,"),
        ("and what is your address? Sure, it is 178th Station Road, London.", "178th Station Road, London."),
    ],
)
def test_a_street_with_its_number_or_a_postcode_said_after_an_address_cue_is_an_address(
    sentence: str, address: str
) -> None:
    assert said(sentence) == [("ADDRESS", address)]


@pytest.mark.parametrize(
    "sentence",
    [
        "the shop on 5 High Street was closed",  # a street named in passing, no address asked for
        "what is your address? By the way, I moved last week",  # no number: no address
        "my e-mail address is on the way",
        "what is your address? I live on the main road near 5 shops",
    ],
)
def test_a_street_named_in_passing_is_no_address(sentence: str) -> None:
    assert [entity for entity, _ in said(sentence) if entity == "ADDRESS"] == []


def test_an_address_is_redacted_only_where_configured() -> None:
    message = "Please send it to my new address: Stationsweg 4, 2312 AV Leiden."
    assert redact_text(message, RedactionOptions()).text == message
    configured = RedactionOptions(entities=frozenset({"ADDRESS"}))
    assert redact_text(message, configured).text == "Please send it to my new address: [ADDRESS]."


def test_a_date_of_birth_asked_for_as_asr_heard_the_question_is_found() -> None:
    # tiny.en on flite's kal and on espeak-ng at 8 kHz: "day of birth", "native birth".
    for question in ("can you confirm your day of birth?", "can you confirm your native birth?"):
        assert said(f"{question} Yes, it is the 12th of January, 1972.") == [
            ("DOB", "12th of January, 1972.")
        ]
