"""Spoken and written numbers to the characters they stand for, word by word.

Callers read card numbers out as "four one one one", "double seven", "oh", "forty two",
"vier een een een", "tweeënveertig", and Whisper writes some of it as digits ("4111"), split or
joined at will, across its segments. Checksums only work on the characters, and redaction only
works on the words: so each character produced here remembers the word that said it.
Number words are read by text2num (one word at a time, in each of the call's languages); what
joins words into a number ("forty two", "four hundred five", "double seven") is done here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from text_to_num import text2num  # type: ignore[import-untyped]

# Languages text2num reads; others are skipped rather than failing the call.
READ_LANGUAGES = frozenset({"en", "nl", "de", "fr", "es", "pt", "it", "da"})
ZERO_WORDS = frozenset({"oh", "nought"})  # English "oh" for zero, which text2num does not read
REPEAT_WORDS = {"double": 2, "triple": 3, "dubbel": 2, "dubbele": 2, "tripel": 3, "doppel": 2}
PLUS_WORDS = frozenset({"plus", "+"})
# What Whisper writes for a digit it misheard ("four five one nine ... one for five four", "6 or 5");
# read as the digit only between two digits or next to "double", where the word itself would make
# no sense. The telephone band (300-3,400 Hz) drops most of what tells fricatives apart, so "six"
# and "three" come out as "fix" and "free" (bench.redaction, 8 kHz calls: "0 fix 8 8 3 4 fix 5 6 4").
HOMOPHONES = {
    "for": "4", "or": "4", "to": "2", "too": "2", "won": "1", "ate": "8",
    "fix": "6", "free": "3", "tree": "3",
}  # fmt: skip
# What Whisper writes for the letter N said before an L ("N L" of a Dutch IBAN, heard "an L").
LETTER_N_WORDS = frozenset({"an", "en", "in"})
# Hesitations inside a number ("four one, uh, one one") that neither break nor join it.
FILLER_WORDS = frozenset({"uh", "um", "er", "erm", "eh", "ehm", "uhm", "euh", "hm", "hmm", "mm", "ah"})
# Punctuation that edges a word, not part of what it says.
EDGE_PUNCTUATION = ".,;:!?\"'()[]…"
# Inside a written number or code: 4111-1111, 03/27, 1.234, and Whisper's "M &L" for "N L".
_SEPARATORS = re.compile(r"[-/.,&]")
_CODE = re.compile(r"[A-Z0-9]+")
_DIGIT_AND_LETTER = re.compile(r"[0-9][a-z]|[a-z][0-9]")
_DIGITS_WITH_OH = re.compile(r"[oO]+[0-9][0-9oO]*|[0-9]+[oO][0-9oO]*")

PieceKind = Literal["code", "tens", "power", "repeat", "plus", "filler"]
# A dash standing between two numbers ("06 - 1234"), which neither breaks nor joins them.
DASHES = frozenset({"-", "–", "—"})


@dataclass(frozen=True, slots=True)
class _Piece:
    kind: PieceKind
    chars: str = ""  # code: what it stands for; tens: "40"; power: the zeros of 100 or 1000
    count: int = 0  # repeat: how many times the next digit is said


_LETTER_O = _Piece("code", "O")


@dataclass(frozen=True, slots=True)
class CodeRun:
    """Consecutive words of one speaker that say a number or a code (letters and digits).

    ``chars`` is what they say, ``owners[i]`` the index of the word that said ``chars[i]``, and
    ``words`` every word of the run in order, hesitations and "double" included.
    """

    chars: str
    owners: tuple[int, ...]
    words: tuple[int, ...]

    def word_edge(self, start: int, end: int) -> bool:
        """Whether ``chars[start:end]`` begins where a word begins and ends where one ends."""
        starts = start == 0 or self.owners[start - 1] != self.owners[start]
        return starts and (end == len(self.chars) or self.owners[end] != self.owners[end - 1])

    def words_saying(self, start: int, end: int) -> tuple[int, ...]:
        """The run's words from the one that said ``chars[start]`` to the one that said ``chars[end - 1]``."""
        first, last = self.owners[start], self.owners[end - 1]
        return tuple(w for w in self.words if first <= w <= last)


def code_runs(words: Sequence[tuple[int, str] | None], languages: Sequence[str]) -> tuple[CodeRun, ...]:
    """The runs of number and code words in ``words`` ((index, text) of one speaker, in order;
    None where the speaker stopped, which ends a run)."""
    langs = tuple(dict.fromkeys(lang for lang in languages if lang in READ_LANGUAGES))
    runs: list[CodeRun] = []
    current: list[tuple[int, _Piece]] = []
    for position, word in enumerate(words):
        if word is None:
            runs.extend(_assembled(current))
            current = []
            continue
        index, text = word
        pieces = _pieces(text, langs)
        following = words[position + 1] if position + 1 < len(words) else None
        before = current[-1][1] if current else None
        if pieces is None or pieces == (_LETTER_O,):
            after = _pieces(following[1], langs) if following is not None else None
            pieces = _homophone(text, before, after) if pieces is None else _letter_o(before, after)
        if pieces is None:
            runs.extend(_assembled(current))
            current = []
        else:
            current.extend((index, piece) for piece in pieces)
    runs.extend(_assembled(current))
    return tuple(runs)


def _assembled(pieces: list[tuple[int, _Piece]]) -> list[CodeRun]:
    """Join one stretch of pieces into characters: tens take the unit that follows ("forty two"
    is 42, not 402), powers pad what follows to their width ("four hundred five" is 405),
    repeats multiply the next digit."""
    chars: list[str] = []
    owners: list[int] = []
    repeat = 1
    for position, (index, piece) in enumerate(pieces):
        following = pieces[position + 1][1] if position + 1 < len(pieces) else None
        said = piece.chars
        if piece.kind == "repeat":
            repeat = piece.count
            said = ""
        elif piece.kind == "tens" and _is_unit(following):
            said = piece.chars[0]
        elif piece.kind == "power":
            width = _width(pieces, position + 1)
            said = "0" * (len(piece.chars) - width) if width else piece.chars
        elif piece.kind == "code" and repeat > 1:
            said, repeat = piece.chars * repeat if len(piece.chars) == 1 else piece.chars, 1
        chars.extend(said)
        owners.extend([index] * len(said))
    if not chars:
        return []
    indices = tuple(dict.fromkeys(index for index, _ in pieces))
    return [CodeRun("".join(chars), tuple(owners), indices)]


def _homophone(
    text: str, before: _Piece | None, after: tuple[_Piece, ...] | None
) -> tuple[_Piece, ...] | None:
    """The digit a homophone stands for where only a digit makes sense: between two digits,
    after "double" ("double to nine"), or before it ("too double nine"); and the letter N that
    Whisper writes as "an" before the L of a Dutch IBAN ("an L10 RABO ...")."""
    word = text.strip().strip(EDGE_PUNCTUATION).lower()
    if word in LETTER_N_WORDS and after is not None and after[0].kind == "code" and after[0].chars[:1] == "L":
        return (_Piece("code", "N"),)
    digit = HOMOPHONES.get(word)
    if digit is None:
        return None
    if (before is not None and before.kind == "repeat") or (after is not None and after[0].kind == "repeat"):
        return (_Piece("code", digit),)
    if before is None or after is None or before.kind != "code" or after[0].kind != "code":
        return None
    return (_Piece("code", digit),) if before.chars.isdigit() and after[0].chars.isdigit() else None


def _letter_o(before: _Piece | None, after: tuple[_Piece, ...] | None) -> tuple[_Piece, ...]:
    """Whisper's "O" for a spoken "oh": zero after a digit ("4 O 5"), or before one where no
    letter comes before it ("o 6 1 2"); a letter after letters ("R A B O 6")."""
    digit_before = before is not None and before.kind == "code" and before.chars[-1:].isdigit()
    letter_before = before is not None and before.kind == "code" and before.chars[-1:].isalpha()
    digit_after = after is not None and after[0].kind == "code" and after[0].chars[:1].isdigit()
    return (_Piece("code", "0"),) if digit_before or (digit_after and not letter_before) else (_LETTER_O,)


def _is_unit(piece: _Piece | None) -> bool:
    return piece is not None and piece.kind == "code" and len(piece.chars) == 1 and piece.chars in "123456789"


def _width(pieces: list[tuple[int, _Piece]], position: int) -> int:
    """How many digits the number said after a power has (0: none), to pad it to the power."""
    if position >= len(pieces):
        return 0
    piece = pieces[position][1]
    if piece.kind == "tens":
        return 2
    return len(piece.chars) if piece.kind == "code" and piece.chars.isdigit() else 0


def _pieces(text: str, languages: tuple[str, ...]) -> tuple[_Piece, ...] | None:
    """What one word contributes to a number, or None when it is an ordinary word."""
    word = text.strip().strip(EDGE_PUNCTUATION)
    lowered = word.lower()
    if not word:
        return None
    if lowered in FILLER_WORDS or lowered in DASHES:
        return (_Piece("filler"),)
    # Whisper writes numbers read out one by one as "4 -9 -double -4 -0": a dash joins a word to them.
    lowered = lowered.strip("-")
    if lowered in PLUS_WORDS:
        return (_Piece("plus", "+"),)
    if lowered in REPEAT_WORDS:
        return (_Piece("repeat", count=REPEAT_WORDS[lowered]),)
    written = _written(word)
    if written is not None:
        return (_Piece("code", written),)
    parts = [_number_word(part, languages) for part in lowered.split("-")]
    if all(part is not None for part in parts):
        return tuple(part for part in parts if part is not None)
    return None


def _written(word: str) -> str | None:
    """Digits, letters spelled one by one, and codes written in capitals ("NL91", "ABNA")."""
    plus = "+" if word.startswith("+") else ""
    bare = _SEPARATORS.sub("", word.lstrip("+"))
    if bare.isdigit():
        return plus + bare
    if _DIGITS_WITH_OH.fullmatch(bare):  # Whisper's "o7" for "oh seven"
        return plus + bare.lower().replace("o", "0")
    if len(bare) == 1 and bare.isalpha() and bare.isascii():
        return bare.upper()
    if _CODE.fullmatch(bare) and (any(c.isdigit() for c in bare) or len(bare) <= 4):
        return bare
    if _DIGIT_AND_LETTER.fullmatch(bare):  # Whisper's "-6i" in "L -6i -N -B": six, then the letter I
        return bare.upper()
    return None


def _unchanged(word: str) -> str:
    return word


def _dutch_spelling(word: str) -> str:
    """Dutch number words as typed without their diaeresis or with a stray accent, as text2num
    reads them: "tweeenveertig" is "tweeënveertig", "eén" and "éen" are "één"."""
    word = _DUTCH_DIAERESIS.sub(r"\1ën", word)
    return "één" if word in ("eén", "éen") else word


_DUTCH_DIAERESIS = re.compile(r"^(twee|drie)en(?=[a-z])")
_SPELLED = {"nl": _dutch_spelling}


@lru_cache(maxsize=4096)
def _number_word(word: str, languages: tuple[str, ...]) -> _Piece | None:
    if word in ZERO_WORDS:
        return _Piece("code", "0")
    for language in languages:
        try:
            value = text2num(_SPELLED.get(language, _unchanged)(word), language)
        except ValueError:
            continue
        if value in (100, 1000):
            return _Piece("power", str(value)[1:])
        if 20 <= value <= 90 and value % 10 == 0:
            return _Piece("tens", str(value))
        return _Piece("code", str(value))
    return None
