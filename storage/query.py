"""Parse a user's transcript search into a typed syntax tree that every search backend compiles.

Owning the parser means a user never sees a raw FTS5 or PostgreSQL syntax error: whatever they type
either becomes a tree that compiles to valid backend syntax, or a ``QueryError`` saying what is
wrong and where.

Syntax, by example:

- ``refund late fee``: all of these words (AND is implied between terms).
- ``"late fee"``: the exact phrase.  ``refund*``: words that start with "refund".
- ``refund OR chargeback``, ``refund AND fee``, ``refund NOT voucher``, ``refund -voucher``.
- ``(refund OR chargeback) -voucher``: parentheses group; NOT binds tighter than AND, AND tighter
  than OR, so ``a OR b c`` means ``a OR (b AND c)``.
- ``NEAR(cancel contract, 5)``: both within 5 words of each other, in either order;
  ``NEAR("late fee" refund)`` uses the default distance of 10.

Only upper-case ``AND``, ``OR``, ``NOT`` and ``NEAR(`` are operators (an upper-case ``NEAR``
without its parenthesis is refused with a hint): "and", "or", "not" and
"near" in lower case are ordinary words, since callers say them ("I do not want ..."). To search
for an upper-case operator word itself, quote it: ``"NOT"``.

Words are cut and lower-cased the way the full-text index cuts the transcript (letters, digits and
combining marks form words; anything else separates them), so ``e-mail`` becomes the phrase
"e mail" and ``can't`` the phrase "can t", exactly as those words are stored. A term made only of
punctuation (``&``, ``?``) is ignored. Diacritics are kept here; the SQLite index folds them.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

MAX_QUERY_LENGTH = 1000
# Far beyond what a person types; bounds recursion here and the backends' expression depth.
MAX_NESTING = 20
DEFAULT_NEAR_DISTANCE = 10
MAX_NEAR_DISTANCE = 100


class QueryError(ValueError):
    """A search the parser cannot accept; ``position`` is the 1-based character it points at."""

    def __init__(self, reason: str, position: int | None = None) -> None:
        self.reason = reason
        self.position = position
        super().__init__(reason if position is None else f"{reason} at position {position}")


@dataclass(frozen=True)
class Term:
    text: str


@dataclass(frozen=True)
class Prefix:
    text: str


@dataclass(frozen=True)
class Phrase:
    """Two or more words in order; ``prefix`` lets the last one match as a prefix (``"late fe"*``)."""

    words: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    """Only ever an item of an ``And`` that also holds something to search for."""

    item: Node


@dataclass(frozen=True)
class Near:
    terms: tuple[Atom, ...]
    distance: int = DEFAULT_NEAR_DISTANCE


Atom = Term | Prefix | Phrase
Node = Term | Prefix | Phrase | And | Or | Not | Near


def split_words(text: str) -> tuple[str, ...]:
    """Lower-cased words as the index's unicode61 tokenizer cuts them."""
    words: list[str] = []
    current: list[str] = []
    for char in text:
        if _is_word_char(char):
            current.append(char)
        elif current:
            words.append("".join(current).lower())
            current = []
    if current:
        words.append("".join(current).lower())
    return tuple(words)


def _is_word_char(char: str) -> bool:
    category = unicodedata.category(char)
    return category[0] in "LNM" or category == "Co"


def parse_query(text: str) -> Node:
    """The syntax tree of a user's search, or ``QueryError`` naming the problem and its position."""
    if len(text) > MAX_QUERY_LENGTH:
        raise QueryError(f"query is too long ({len(text)} characters, at most {MAX_QUERY_LENGTH})")
    tokens = list(_lex(text))
    if not tokens:
        raise QueryError("empty query")
    return _Parser(tokens).parse()


TokenKind = Literal["atom", "(", ")", ",", "AND", "OR", "NOT", "-", "NEAR"]


@dataclass(frozen=True)
class _Token:
    kind: TokenKind
    position: int  # 1-based, as shown to the user
    raw: str = ""
    atom: Atom | None = None


_WORD_BREAKS = frozenset('()",')


def _lex(text: str) -> Iterator[_Token]:
    """Tokens of the query; commas are tokens only inside ``NEAR(...)``, elsewhere they separate words."""
    index = 0
    in_near = False
    while index < len(text):
        char = text[index]
        position = index + 1
        if char.isspace() or (char == "," and not in_near):
            index += 1
        elif char in "(),":
            in_near = in_near and char != ")"
            yield _Token(char, position)  # type: ignore[arg-type]
            index += 1
        elif char == '"':
            close = text.find('"', index + 1)
            if close < 0:
                raise QueryError("unbalanced quote", position)
            index = close + 1
            while index < len(text) and text[index] == "*":
                index += 1
            atom = _atom(text[position:close], index > close + 1, close + 2)
            if atom is not None:
                yield _Token("atom", position, text[position - 1 : index], atom)
        elif char == "-" and _starts_operand(text[index + 1 : index + 2]):
            yield _Token("-", position)
            index += 1
        else:
            end = index
            while end < len(text) and not text[end].isspace() and text[end] not in _WORD_BREAKS:
                end += 1
            raw = text[index:end]
            index = end
            if raw in ("AND", "OR", "NOT"):
                yield _Token(raw, position)  # type: ignore[arg-type]
            elif raw == "NEAR" and text[end:].lstrip().startswith("("):
                yield _Token("NEAR", position)
                index = text.index("(", end) + 1
                yield _Token("(", index)
                in_near = True
            elif raw == "NEAR":
                # "refund NEAR euros" would otherwise look for the word "near" and quietly find nothing.
                raise QueryError(
                    "NEAR is written NEAR(refund euros, 5): the words in parentheses, then how many "
                    "words apart (lower-case near is an ordinary word)",
                    position,
                )
            else:
                word = raw.rstrip("*")
                if "*" in word:
                    raise QueryError("* only works at the end of a word", position + word.index("*"))
                atom = _atom(word, len(word) < len(raw), position + len(word))
                if atom is not None:
                    yield _Token("atom", position, raw, atom)


def _starts_operand(char: str) -> bool:
    """A "-" right before a word, quote or "(" means NOT; alone ("a - b") it is punctuation."""
    return char != "" and not char.isspace() and char not in "),"


def _atom(text: str, prefix: bool, star_position: int) -> Atom | None:
    """The words of one term or quoted phrase; None when it holds no word at all (``&``, ``""``)."""
    words = split_words(text)
    if not words:
        if prefix:
            raise QueryError("* only works at the end of a word", star_position)
        return None
    if len(words) > 1:
        return Phrase(words, prefix)
    return Prefix(words[0]) if prefix else Term(words[0])


class _Parser:
    """Recursive descent over the tokens; precedence NOT > AND > OR."""

    def __init__(self, tokens: list[_Token]) -> None:
        self._tokens = tokens
        self._index = 0
        self._depth = 0

    def parse(self) -> Node:
        first = self._tokens[0]  # parse_query rejects an empty token list
        node = self._or()
        extra = self._peek()
        if extra is not None:  # _or stops only at the end or at a ")" nobody opened
            raise QueryError("unbalanced parenthesis", extra.position)
        if not _searches(node):
            raise QueryError("a query cannot only exclude", first.position)
        return node

    def _peek(self) -> _Token | None:
        return self._tokens[self._index] if self._index < len(self._tokens) else None

    def _next(self) -> _Token:
        token = self._tokens[self._index]
        self._index += 1
        return token

    def _or(self) -> Node:
        start = self._peek()
        assert start is not None  # callers make sure something follows
        starts = [start.position]
        items = [self._or_operand(start)]
        while (token := self._peek()) is not None and token.kind == "OR":
            self._next()
            following = self._peek()
            if following is None or following.kind in ("OR", ")"):
                raise QueryError("OR needs a term on both sides", token.position)
            starts.append(following.position)
            items.append(self._or_operand(following))
        if len(items) == 1:
            return items[0]
        for position, item in zip(starts, items, strict=True):
            if not _searches(item):
                raise QueryError("each side of OR must search for something, not only exclude", position)
        return Or(tuple(_flatten(items, Or)))

    def _or_operand(self, start: _Token) -> Node:
        if start.kind == "OR":
            raise QueryError("OR needs a term on both sides", start.position)
        if start.kind == ")":
            raise QueryError("unbalanced parenthesis", start.position)
        return self._and()

    def _and(self) -> Node:
        items: list[Node] = []
        while (token := self._peek()) is not None and token.kind not in ("OR", ")"):
            if token.kind == "AND":
                self._next()
                following = self._peek()
                if not items or following is None or following.kind in ("OR", ")", "AND"):
                    raise QueryError("AND needs a term on both sides", token.position)
                continue
            items.append(self._unary())
        if len(items) == 1:
            return items[0]
        return And(tuple(_flatten(items, And)))

    def _unary(self) -> Node:
        token = self._peek()
        assert token is not None
        if token.kind not in ("NOT", "-"):
            return self._primary()
        self._next()
        operand = self._peek()
        if operand is None or operand.kind in ("OR", ")", "AND"):
            raise QueryError("NOT needs something to exclude", token.position)
        item = self._unary()
        if not _searches(item):
            raise QueryError("NOT cannot exclude an exclusion", operand.position)
        return Not(item)

    def _primary(self) -> Node:
        token = self._next()
        if token.atom is not None:
            return token.atom
        if token.kind == "NEAR":
            return self._near(token)
        assert token.kind == "(", token  # _and and _unary consume every other kind
        following = self._peek()
        if following is None:
            raise QueryError("unbalanced parenthesis", token.position)
        if following.kind == ")":
            raise QueryError("empty parentheses", token.position)
        if self._depth >= MAX_NESTING:
            raise QueryError(f"too many nested parentheses (at most {MAX_NESTING})", token.position)
        self._depth += 1
        node = self._or()
        self._depth -= 1
        closing = self._peek()
        if closing is None:
            raise QueryError("unbalanced parenthesis", token.position)
        self._next()
        return node

    def _near(self, near: _Token) -> Near:
        opening = self._next()  # the lexer puts a "(" right after NEAR
        terms: list[Atom] = []
        while (token := self._peek()) is not None and token.atom is not None:
            terms.append(token.atom)
            self._next()
        if token is not None and token.kind not in (",", ")"):
            raise QueryError("NEAR takes only words and quoted phrases", token.position)
        if len(terms) < 2:
            raise QueryError("NEAR needs at least two terms", near.position)
        distance = DEFAULT_NEAR_DISTANCE
        if token is not None and token.kind == ",":
            self._next()
            distance = self._distance(token)
            token = self._peek()
        if token is None:
            raise QueryError("unbalanced parenthesis", opening.position)
        if token.kind != ")":
            raise QueryError("NEAR expects ) after the distance", token.position)
        self._next()
        return Near(tuple(terms), distance)

    def _distance(self, comma: _Token) -> int:
        token = self._peek()
        raw = token.raw if token is not None else ""
        if token is None or token.atom is None or not (raw.isascii() and raw.isdigit()):
            raise QueryError(
                f"distance must be a number between 1 and {MAX_NEAR_DISTANCE}",
                token.position if token is not None else comma.position,
            )
        if not 1 <= int(raw) <= MAX_NEAR_DISTANCE:
            raise QueryError(f"distance must be a number between 1 and {MAX_NEAR_DISTANCE}", token.position)
        self._next()
        return int(raw)


def _flatten(items: list[Node], kind: type[And] | type[Or]) -> Iterator[Node]:
    """``a (b c)`` is ``a b c``: one flat level per operator keeps compiled expressions shallow."""
    for item in items:
        if isinstance(item, kind):
            yield from item.items
        else:
            yield item


def _searches(node: Node) -> bool:
    """Whether a node finds rows by itself; a bare exclusion needs a sibling that does."""
    if isinstance(node, Not):
        return False
    if isinstance(node, And):
        return any(not isinstance(item, Not) for item in node.items)
    return True
