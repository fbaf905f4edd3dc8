"""Dates of birth: a date said after a cue ("date of birth", "born on", "geboortedatum").

A date is a run of one speaker's words that are all parts of a date: a month's name, a day
("5", "5th", "fifth", "twenty first", "vijfde"), a year ("1982", "'82", "nineteen eighty two",
"negentienhonderdtweeëntachtig"), a written date ("05/03/1982"), and the small words between them
("the fifth of March"). It is a date when it has a written date, or a month's name and a number
beside it ("May I" is not one). Only a date whose cue was said shortly before is a date of birth:
appointments and invoice dates are not personal data.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from text_to_num import text2num  # type: ignore[import-untyped]

from transcribe.redaction.entities import Finding
from transcribe.redaction.spoken import READ_LANGUAGES

# Matched at a word's start: "birth" stands in "date of birth", "birthday", "day of birth" and
# what ASR makes of the question ("your native birth?"); "geboorte" in "geboortedatum".
CUES = ("birth", "born", "dob", "d.o.b", "geboorte", "geboren", "verjaardag")
_CUE = re.compile(r"\b(?:" + "|".join(re.escape(cue) for cue in CUES) + ")")
MONTHS = frozenset(
    {
        "january", "february", "march", "april", "may", "june", "july", "august", "september",
        "october", "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep",
        "sept", "oct", "nov", "dec",
        "januari", "februari", "maart", "mei", "juni", "juli", "augustus", "oktober",
    }
)  # fmt: skip
# Small words inside a date ("the fifth of March", "de vijfde maart"); never at its edges.
JOINING_WORDS = frozenset({"the", "of", "de", "van", "in", "and", "en"})
ORDINAL_WORDS = frozenset(
    {
        "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
        "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth",
        "seventeenth", "eighteenth", "nineteenth", "twentieth", "thirtieth",
        "eerste", "tweede", "derde", "vierde", "vijfde", "zesde", "zevende", "achtste", "negende",
        "tiende", "elfde", "twaalfde", "dertiende", "veertiende", "vijftiende", "zestiende",
        "zeventiende", "achttiende", "negentiende", "twintigste", "dertigste",
    }
)  # fmt: skip
_WRITTEN_DATE = re.compile(r"\d{1,4}[/.-]\d{1,2}[/.-]\d{2,4}")
# Digits ("1982"), a day as ordinal ("5th", "5de"), a short year ("'82"), a written date.
_NUMERIC = re.compile(r"\d+|\d{1,2}(?:st|nd|rd|th|ste|de|e)|'\d{2}|" + _WRITTEN_DATE.pattern)


def birth_dates(
    said: Sequence[int], lowered: Sequence[str], context_words: int, languages: Sequence[str]
) -> list[Finding]:
    """The dates of birth one speaker said: ``said`` are the indices of their words in the call,
    ``lowered`` every word of the call (lower-cased, edge punctuation stripped). A cue counts when
    it is among the ``context_words`` words (anyone's) before the date."""
    langs = tuple(lang for lang in dict.fromkeys(languages) if lang in READ_LANGUAGES)
    found: list[Finding] = []
    for run in _runs_of_parts(said, lowered, langs):
        words = _trimmed(run, lowered)
        if words and _is_date([lowered[i] for i in words]) and _cued(words[0], lowered, context_words):
            found.append(Finding("DOB", tuple(words)))
    return found


def _runs_of_parts(
    said: Sequence[int], lowered: Sequence[str], languages: tuple[str, ...]
) -> list[list[int]]:
    """The speaker's stretches of consecutive words (no one else's between) that can all be
    parts of a date."""
    runs: list[list[int]] = []
    for index in said:
        if not _part(lowered[index], languages):
            continue
        if runs and runs[-1][-1] == index - 1:
            runs[-1].append(index)
        else:
            runs.append([index])
    return runs


def _cued(first: int, lowered: Sequence[str], context_words: int) -> bool:
    return bool(_CUE.search(" ".join(lowered[max(0, first - context_words) : first])))


def _trimmed(words: list[int], lowered: Sequence[str]) -> list[int]:
    while words and lowered[words[0]] in JOINING_WORDS:
        words = words[1:]
    while words and lowered[words[-1]] in JOINING_WORDS:
        words = words[:-1]
    return words


def _is_date(tokens: Sequence[str]) -> bool:
    if any(_WRITTEN_DATE.fullmatch(token) for token in tokens):
        return True
    return any(token in MONTHS for token in tokens) and any(
        token not in MONTHS and token not in JOINING_WORDS for token in tokens
    )


def _part(token: str, languages: tuple[str, ...]) -> bool:
    """Whether ``token`` can be part of a date."""
    return (
        token in MONTHS
        or token in JOINING_WORDS
        or token in ORDINAL_WORDS
        or bool(_NUMERIC.fullmatch(token))
        or any(_reads_as_number(piece, languages) for piece in token.split("-"))
    )


@lru_cache(maxsize=4096)
def _reads_as_number(word: str, languages: tuple[str, ...]) -> bool:
    for language in languages:
        try:
            text2num(word, language)
        except ValueError:
            continue
        return True
    return False
