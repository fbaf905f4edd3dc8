"""The search parser: user text to syntax tree, every error message, and both backends' compiled strings."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storage.query import (
    And,
    Near,
    Node,
    Not,
    Or,
    Phrase,
    Prefix,
    QueryError,
    Term,
    parse_query,
    split_words,
)
from storage.search import compile_fts5, compile_tsquery


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("refund", Term("refund")),
        ("Refund LATE", And((Term("refund"), Term("late")))),
        ('"late fee"', Phrase(("late", "fee"))),
        ('"Refund"', Term("refund")),
        ("refund*", Prefix("refund")),
        ("refund**", Prefix("refund")),
        ('"late fe"*', Phrase(("late", "fe"), prefix=True)),
        ("e-mail", Phrase(("e", "mail"))),
        ("e-mail*", Phrase(("e", "mail"), prefix=True)),
        ("can't", Phrase(("can", "t"))),
        ("can’t", Phrase(("can", "t"))),
        ("café RÉSUMÉ", And((Term("café"), Term("résumé")))),
        ("refund, please!", And((Term("refund"), Term("please")))),
        ("refund & fee ?", And((Term("refund"), Term("fee")))),
        ("a AND b", And((Term("a"), Term("b")))),
        ("a OR b", Or((Term("a"), Term("b")))),
        ("a OR b OR c", Or((Term("a"), Term("b"), Term("c")))),
        ("a OR b c", Or((Term("a"), And((Term("b"), Term("c")))))),
        ("(a OR b) c", And((Or((Term("a"), Term("b"))), Term("c")))),
        ("a NOT b", And((Term("a"), Not(Term("b"))))),
        ("a AND NOT b", And((Term("a"), Not(Term("b"))))),
        ("-b a", And((Not(Term("b")), Term("a")))),
        ("a -b -c", And((Term("a"), Not(Term("b")), Not(Term("c"))))),
        ("a (-b -c)", And((Term("a"), Not(Term("b")), Not(Term("c"))))),
        ("a -(b OR c)", And((Term("a"), Not(Or((Term("b"), Term("c"))))))),
        ('a -"late fee"', And((Term("a"), Not(Phrase(("late", "fee")))))),
        ("a - b", And((Term("a"), Term("b")))),  # a lone dash is punctuation, not NOT
        ("a OR -b c", Or((Term("a"), And((Not(Term("b")), Term("c")))))),
        ("((a))", Term("a")),
        # Lower-case operator words are words: callers say them.
        ("and or not near", And((Term("and"), Term("or"), Term("not"), Term("near")))),
        ('"NOT" "AND"', And((Term("not"), Term("and")))),
        ('"NEAR"', Term("near")),  # quoted: the word; bare, NEAR without ( is refused with a hint
        ("NEAR(cancel contract, 5)", Near((Term("cancel"), Term("contract")), 5)),
        ("NEAR(cancel contract)", Near((Term("cancel"), Term("contract")), 10)),
        ("NEAR (a b,100)", Near((Term("a"), Term("b")), 100)),
        ('NEAR("late fee" refund*, 3)', Near((Phrase(("late", "fee")), Prefix("refund")), 3)),
        ("NEAR(a b c, 2) OR d", Or((Near((Term("a"), Term("b"), Term("c")), 2), Term("d")))),
    ],
)
def test_parse(text: str, tree: Node) -> None:
    assert parse_query(text) == tree


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty query"),
        ("   ", "empty query"),
        ("?! &", "empty query"),
        ('""', "empty query"),
        ('refund "late fee', "unbalanced quote at position 8"),
        ("(a b", "unbalanced parenthesis at position 1"),
        ("a b)", "unbalanced parenthesis at position 4"),
        ("()", "empty parentheses at position 1"),
        ("NOT", "NOT needs something to exclude at position 1"),
        ("a NOT", "NOT needs something to exclude at position 3"),
        ("a NOT OR b", "NOT needs something to exclude at position 3"),
        ("NOT a", "a query cannot only exclude at position 1"),
        ("-a -b", "a query cannot only exclude at position 1"),
        ("a OR -b", "each side of OR must search for something, not only exclude at position 6"),
        ("(-b) OR a", "each side of OR must search for something, not only exclude at position 1"),
        ("NOT NOT a", "NOT cannot exclude an exclusion at position 5"),
        ("a AND", "AND needs a term on both sides at position 3"),
        ("AND a", "AND needs a term on both sides at position 1"),
        ("a AND OR b", "AND needs a term on both sides at position 3"),
        ("a OR", "OR needs a term on both sides at position 3"),
        ("OR a", "OR needs a term on both sides at position 1"),
        ("(a OR) b", "OR needs a term on both sides at position 4"),
        ("ref*und", "* only works at the end of a word at position 4"),
        ("refund *", "* only works at the end of a word at position 8"),
        ('""*', "* only works at the end of a word at position 3"),
        ("NEAR(a)", "NEAR needs at least two terms at position 1"),
        ("NEAR(a ?, 4)", "NEAR needs at least two terms at position 1"),
        ("NEAR(a b, 0)", "distance must be a number between 1 and 100 at position 11"),
        ("NEAR(a b, 101)", "distance must be a number between 1 and 100 at position 11"),
        ("NEAR(a b, five)", "distance must be a number between 1 and 100 at position 11"),
        ("NEAR(a b, -3)", "distance must be a number between 1 and 100 at position 11"),
        ("NEAR(a b, 2.5)", "distance must be a number between 1 and 100 at position 11"),
        ("NEAR(a b,)", "distance must be a number between 1 and 100 at position 10"),
        ("NEAR(a b, 5, 6)", "NEAR expects ) after the distance at position 12"),
        ("NEAR(a b", "unbalanced parenthesis at position 5"),
        ("NEAR(a (b c))", "NEAR takes only words and quoted phrases at position 8"),
        (
            "refund NEAR euros",
            "NEAR is written NEAR(refund euros, 5): the words in parentheses, then how many words apart"
            " (lower-case near is an ordinary word) at position 8",
        ),
        ("NEAR(a NOT b)", "NEAR takes only words and quoted phrases at position 8"),
        ("(" * 21 + "a" + ")" * 21, "too many nested parentheses (at most 20) at position 21"),
        ("a" * 1001, "query is too long (1001 characters, at most 1000)"),
    ],
)
def test_parse_errors(text: str, message: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse_query(text)
    assert str(caught.value) == message


def test_query_error_is_a_value_error_with_its_position() -> None:
    with pytest.raises(ValueError) as caught:
        parse_query('a "b')
    assert isinstance(caught.value, QueryError)
    assert (caught.value.reason, caught.value.position) == ("unbalanced quote", 3)


@pytest.mark.parametrize(
    "text",
    [
        "Hello, World!",
        "e-mail can't",
        "résumé CAFÉ naïve",
        "x\u200by a_b",
        "٣٤ ١٢",
        "日本語 テスト",
        "cafe\u0301s",
    ],
)
def test_split_words_cuts_like_the_fts5_tokenizer(text: str) -> None:
    """Same words as the index's tokenizer; diacritics are kept here and folded by the index itself."""
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE VIRTUAL TABLE t USING fts5(text, tokenize='unicode61 remove_diacritics 0')")
    connection.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
    connection.execute("INSERT INTO t(text) VALUES (?)", (text,))
    tokens = [row[0] for row in connection.execute("SELECT term FROM v ORDER BY offset")]
    assert list(split_words(text)) == tokens


@pytest.mark.parametrize(
    ("text", "fts5"),
    [
        ("refund", '"refund"'),
        ("refund*", '"refund"*'),
        ('"late fee"', '"late fee"'),
        ("e-mail*", '"e mail"*'),
        ("refund late fee", '("refund" AND "late" AND "fee")'),
        ("a OR b", '("a" OR "b")'),
        ("a NOT b", '("a" NOT "b")'),
        ("-b a", '("a" NOT "b")'),
        ("(a OR b) -c -d", '((("a" OR "b") NOT "c") NOT "d")'),
        ("a b -c", '(("a" AND "b") NOT "c")'),
        ("a -(b OR c d)", '("a" NOT ("b" OR ("c" AND "d")))'),
        ("a OR b -c", '("a" OR ("b" NOT "c"))'),
        ('NEAR("late fee" refund*, 3)', 'NEAR("late fee" "refund"*, 3)'),
        ("NEAR(a b) OR c", '(NEAR("a" "b", 10) OR "c")'),
    ],
)
def test_compile_fts5(text: str, fts5: str) -> None:
    assert compile_fts5(parse_query(text)) == fts5


def test_compile_fts5_quotes_every_term() -> None:
    """Trees built by hand (not by the parser) still cannot inject FTS5 syntax."""
    assert compile_fts5(Term('a" OR "b')) == '"a"" OR ""b"'
    assert compile_fts5(Phrase(("x", 'y"'), prefix=True)) == '"x y"""*'


@pytest.mark.parametrize("tree", [Not(Term("a")), And((Not(Term("a")), Not(Term("b"))))])
def test_compile_fts5_rejects_a_bare_exclusion(tree: Node) -> None:
    with pytest.raises(ValueError, match="Not"):
        compile_fts5(tree)


@pytest.mark.parametrize(
    ("text", "tsquery"),
    [
        ("refund", "'refund'"),
        ("refund*", "'refund':*"),
        ('"late fee"', "('late' <-> 'fee')"),
        ("e-mail*", "('e' <-> 'mail':*)"),
        ("refund late", "('refund' & 'late')"),
        ("a OR b c", "('a' | ('b' & 'c'))"),
        ("a -b -c", "('a' & !'b' & !'c')"),
        ("a -(b OR c)", "('a' & !('b' | 'c'))"),
        ("NEAR(a b, 1)", "('a' <1> 'b' | 'a' <2> 'b' | 'b' <1> 'a' | 'b' <2> 'a')"),
        (
            'NEAR("x y" z, 1)',
            "(('x' <-> 'y') <1> 'z' | ('x' <-> 'y') <2> 'z' | 'z' <1> ('x' <-> 'y') | 'z' <2> ('x' <-> 'y'))",
        ),
        (
            "NEAR(a b c, 1)",
            "(('a' <1> 'b' | 'a' <2> 'b' | 'b' <1> 'a' | 'b' <2> 'a')"
            " & ('b' <1> 'c' | 'b' <2> 'c' | 'c' <1> 'b' | 'c' <2> 'b'))",
        ),
    ],
)
def test_compile_tsquery(text: str, tsquery: str) -> None:
    assert compile_tsquery(parse_query(text)) == tsquery


def test_compile_tsquery_near_spans_every_distance_both_ways() -> None:
    compiled = compile_tsquery(parse_query("NEAR(a b)"))
    assert compiled.count(" | ") == 2 * 11 - 1  # <1> .. <11> (0..10 words between), in both orders
    assert "'a' <11> 'b'" in compiled and "'b' <11> 'a'" in compiled and "<12>" not in compiled


def test_compile_tsquery_escapes_lexemes() -> None:
    assert compile_tsquery(Term("it's")) == "'it''s'"
    assert compile_tsquery(Prefix("a\\b")) == "'a\\\\b':*"


_QUERY_PIECES = st.sampled_from(
    ["AND", "OR", "NOT", "NEAR(", "NEAR", "(", ")", '"', "-", "*", ",", " ", "5", "0", "101",
     "refund", "late fee", "e-mail", "can't", "é", "and", "\u0301", "?"]
)  # fmt: skip


@settings(max_examples=500, deadline=None, database=None)
@given(st.one_of(st.text(max_size=60), st.lists(_QUERY_PIECES, max_size=20).map(" ".join),
                 st.lists(_QUERY_PIECES, max_size=20).map("".join)))  # fmt: skip
def test_any_text_parses_and_compiles_or_raises_query_error(text: str) -> None:
    try:
        tree = parse_query(text)
    except QueryError as error:
        assert str(error)
        return
    assert compile_fts5(tree)
    assert compile_tsquery(tree)
