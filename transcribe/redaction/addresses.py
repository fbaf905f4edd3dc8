"""Postal addresses: a street with its house number, or a postcode, said after an address cue.

An address is anchored on a street word ("Street", "Road", "straat", or a Dutch compound such as
"Kerkstraat") or a postcode ("3511 AB", "SW1A 1AA", "90210") and grows over the words around it
that belong to an address: house numbers, the street's name and the city (capitalised, as Whisper
and writers give names), the postcode's pieces. It must hold a number, and an address cue ("your
address", "postcode", "where do you live", "adres") must have been said shortly before it, so a
street named in passing ("the shop on High Street") stays.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from transcribe.redaction.entities import Finding
from transcribe.redaction.spoken import EDGE_PUNCTUATION

CUES = (
    "address", "postcode", "post code", "postal code", "zip", "where do you live", "live at",
    "adres", "woonplaats", "waar woont", "woont u", "woon ",
)  # fmt: skip
_CUE = re.compile(r"\b(?:" + "|".join(re.escape(cue) for cue in CUES) + ")")
STREET_WORDS = frozenset(
    {
        "street", "st", "road", "rd", "avenue", "ave", "lane", "drive", "way", "court", "place",
        "boulevard", "square", "crescent", "close", "terrace", "row", "gardens",
        "straat", "weg", "laan", "plein", "gracht", "kade", "singel", "dijk", "dreef", "steeg",
    }
)  # fmt: skip
# Dutch streets are one word: Kerkstraat, Stationsweg, Beethovenlaan.
_DUTCH_STREET = re.compile(r"[a-zà-ÿ]{3,}(?:straat|weg|laan|plein|gracht|kade|singel|dijk|dreef|steeg)")
_HOUSE_NUMBER = re.compile(r"\d{1,5}(?:st|nd|rd|th|[a-z])?")  # 12, 221b, and ASR's "178th"
# Postcodes: Dutch "3511 AB" / "3511AB", British "SW1A 1AA", American "90210" / "90210-1234".
_POSTCODE_WORD = re.compile(r"\d{4}[a-z]{2}|[a-z]{1,2}\d[a-z\d]?|\d[a-z]{2}|\d{5}(?:-\d{4})?")
_POSTCODE_LETTERS = re.compile(r"[a-z]{2}")
_DUTCH_POSTCODE = re.compile(r"\d{4}[a-z]{2}")
_DUTCH_POSTCODE_DIGITS = re.compile(r"\d{4}")
_BRITISH_OUTWARD = re.compile(r"[a-z]{1,2}\d[a-z\d]?")
_BRITISH_INWARD = re.compile(r"\d[a-z]{2}")
# Capitalised words that start sentences and answers, never a street's or a city's name.
_NOT_NAMES = frozenset(
    {"i", "i'm", "it's", "it", "its", "yes", "yeah", "no", "my", "the", "that's", "that", "this",
     "sure", "okay", "ok", "ja", "nee", "mijn", "het", "dat", "is", "we", "our", "ons", "onze"}
)  # fmt: skip
MOST_WORDS_BEFORE = 4  # "12 Old Church Street", "Van Baerlestraat" said as two words
MOST_WORDS_AFTER = 6  # "12, 3511 AB Utrecht", "London SW1A 1AA"


def postal_addresses(
    said: Sequence[int], texts: Sequence[str], lowered: Sequence[str], context_words: int
) -> list[Finding]:
    """The addresses one speaker said: ``said`` are the indices of their words in the call,
    ``texts`` every word as written, ``lowered`` the same lower-cased without edge punctuation."""
    found: list[Finding] = []
    taken: set[int] = set()
    for position, index in enumerate(said):
        if index in taken or not _anchor(lowered, position, said):
            continue
        first = last = position
        # Before the street word, its name as ASR writes it ("147 mil lane", "100 and church
        # road"): any words, from the house number or capitalised name that starts it.
        while position - first < MOST_WORDS_BEFORE and _joins(said, first - 1, first, texts, lowered, True):
            first -= 1
        while first < position and not _starts_address(texts[said[first]], lowered[said[first]]):
            first += 1
        while last - position < MOST_WORDS_AFTER and _joins(said, last + 1, last, texts, lowered):
            last += 1
        words = said[first : last + 1]
        has_number = any(any(char.isdigit() for char in lowered[i]) for i in words)
        cue_text = " ".join(lowered[max(0, words[0] - context_words) : words[0]])
        if has_number and _CUE.search(cue_text):
            found.append(Finding("ADDRESS", tuple(words)))
            taken.update(words)
    return found


def _anchor(lowered: Sequence[str], position: int, said: Sequence[int]) -> bool:
    word = lowered[said[position]]
    following = lowered[said[position + 1]] if position + 1 < len(said) else ""
    return (
        word in STREET_WORDS
        or bool(_DUTCH_STREET.fullmatch(word) or _DUTCH_POSTCODE.fullmatch(word))
        or (bool(_DUTCH_POSTCODE_DIGITS.fullmatch(word)) and bool(_POSTCODE_LETTERS.fullmatch(following)))
        or (bool(_BRITISH_OUTWARD.fullmatch(word)) and bool(_BRITISH_INWARD.fullmatch(following)))
    )


def _joins(
    said: Sequence[int],
    position: int,
    neighbour: int,
    texts: Sequence[str],
    lowered: Sequence[str],
    any_word: bool = False,
) -> bool:
    """Whether the speaker's word at ``position`` belongs to the address that reaches the word at
    ``neighbour`` beside it (no one else's words, and no sentence's end, between): a number, a
    postcode's piece, a street word or a capitalised name, or with ``any_word`` any word that
    does not start a sentence."""
    if not 0 <= position < len(said) or abs(said[position] - said[neighbour]) != 1:
        return False
    if texts[min(said[position], said[neighbour])].rstrip().endswith((".", "?", "!")):
        return False  # a sentence ends between them
    index = said[position]
    word, text = lowered[index], texts[index].strip().strip(EDGE_PUNCTUATION)
    return (
        bool(word)
        and word not in _NOT_NAMES
        and (
            any_word
            or bool(_HOUSE_NUMBER.fullmatch(word) or _POSTCODE_WORD.fullmatch(word))
            or word in STREET_WORDS
            or text[:1].isupper()
        )
    )


def _starts_address(text: str, word: str) -> bool:
    return bool(_HOUSE_NUMBER.fullmatch(word)) or text.strip().strip(EDGE_PUNCTUATION)[:1].isupper()
