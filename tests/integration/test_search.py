"""Transcript search against a real SQLite file (FTS5 index + triggers) and a real PostgreSQL server
(stored tsvector + GIN), both built by the real migrations: the same tests, the same expectations."""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, event, select, text, update

from storage import search
from storage.db import Database, session_scope
from storage.errors import InvalidValue
from storage.models import (
    Agent,
    Customer,
    Identity,
    Message,
    Recording,
    Speaker,
    Thread,
    Transcript,
    Utterance,
)
from storage.query import QueryError, parse_query
from storage.search import (
    HIGHLIGHT_END,
    HIGHLIGHT_START,
    SearchFilters,
    compile_fts5,
    compile_tsquery,
    search_utterances,
)
from tests.conftest import open_test_database
from transcribe.types import Role


@dataclass(frozen=True)
class Call:
    provider_id: str
    customer: str | None
    agent: str
    started_at: datetime
    lines: tuple[tuple[str, str], ...]  # (role, text)


CALLS = (
    Call(
        "call-1",
        "Maria García",
        "Anna",
        datetime(2024, 3, 1, 10, 0, tzinfo=UTC),
        (
            ("agent", "Thank you for calling, how can I help?"),
            ("customer", "I was charged a late fee on my invoice and I want a refund."),
            ("agent", "I can refund the late fee today."),
            ("customer", "Please send the confirmation by e-mail."),
        ),
    ),
    Call(
        "call-2",
        "John Smith",
        "Bob",
        datetime(2024, 3, 5, 15, 30, tzinfo=UTC),
        (
            ("customer", "I want to cancel my contract because of the price."),
            ("agent", "Before you cancel we can offer a big discount on your contract."),
            ("customer", "I can't accept that, the résumé of charges is wrong."),
        ),
    ),
    Call(
        "call-3",
        "Maria García",
        "Bob",
        datetime(2024, 4, 10, 9, 0, tzinfo=UTC),
        (
            ("customer", "The refund never arrived, I need it now."),
            ("agent", "Refunds take five days and a voucher is attached."),
        ),
    ),
    Call(
        "call-4",
        None,
        "Anna",
        datetime(2024, 4, 11, 9, 0, tzinfo=UTC),
        (("customer", "Wrong number, sorry. Fee fee late."),),
    ),
)
IDENTITIES = {
    "Maria García": (("phone", "+31612345678"), ("email", "maria@example.com")),
    "John Smith": (("phone", "+442079460958"),),
}


@pytest.fixture(scope="module")
def db(module_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    database = open_test_database(module_database_url, tmp_path_factory.mktemp("search"))
    _insert_calls(database)
    yield database
    database.engine.dispose()


def _insert_calls(db: Database, suffix: str = "") -> None:
    with session_scope(db) as session:
        customers = {}
        for name, identities in IDENTITIES.items():
            customers[name] = Customer(
                display_name=name,
                identities=[
                    Identity(kind=kind, value=value + suffix, raw_value=value) for kind, value in identities
                ],
            )
        agents = {name: Agent(name=name + suffix) for name in {call.agent for call in CALLS}}
        for number, call in enumerate(CALLS):
            thread = Thread(
                customer=customers.get(call.customer or ""),
                agent=agents[call.agent],
                channel="call",
                provider="test",
                provider_id=call.provider_id + suffix,
                started_at=call.started_at,
            )
            speakers = {
                role: Speaker(label=f"SPEAKER_{i}", role=role) for i, role in enumerate(("agent", "customer"))
            }
            transcript = Transcript(
                language="en",
                duration=60.0,
                options={},
                models={},
                speakers=list(speakers.values()),
                utterances=[
                    Utterance(speaker=speakers[role], seq=seq, start=5.0 * seq, end=5.0 * seq + 4, text=line)
                    for seq, (role, line) in enumerate(call.lines)
                ],
            )
            session.add(
                Recording(
                    thread=thread,
                    sha256=f"{number:064d}" if not suffix else f"{number:063d}f",
                    original_name=f"{call.provider_id}.wav",
                    format="WAV/PCM_16",
                    size_bytes=1000,
                    duration=60.0,
                    sample_rate=8000,
                    channels=2,
                    transcript=transcript,
                )
            )


def _texts(db: Database, query: str, filters: SearchFilters | None = None) -> set[str]:
    """The full texts of the matching utterances, so a test reads as the transcript lines it expects."""
    page = search_utterances(db, query, filters or SearchFilters())
    with db.engine.connect() as connection:
        return {
            connection.execute(select(Utterance.text).where(Utterance.id == hit.utterance_id)).scalar_one()
            for hit in page.hits
        }


LATE_FEE = "I was charged a late fee on my invoice and I want a refund."
REFUND_TODAY = "I can refund the late fee today."
CANCEL = "I want to cancel my contract because of the price."
DISCOUNT = "Before you cancel we can offer a big discount on your contract."
CANT = "I can't accept that, the résumé of charges is wrong."
NEVER = "The refund never arrived, I need it now."
REFUNDS = "Refunds take five days and a voucher is attached."
EMAIL = "Please send the confirmation by e-mail."
WRONG = "Wrong number, sorry. Fee fee late."


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('"late fee"', {LATE_FEE, REFUND_TODAY}),  # not WRONG: "fee late" is the other order
        ("late fee", {LATE_FEE, REFUND_TODAY, WRONG}),
        ("refund", {LATE_FEE, REFUND_TODAY, NEVER}),
        ("refund*", {LATE_FEE, REFUND_TODAY, NEVER, REFUNDS}),
        ("REF*", {LATE_FEE, REFUND_TODAY, NEVER, REFUNDS}),
        ("refund OR cancel", {LATE_FEE, REFUND_TODAY, NEVER, CANCEL, DISCOUNT}),
        ("refund AND invoice", {LATE_FEE}),
        ("refund -fee", {NEVER}),
        ("refund* NOT (fee OR voucher)", {NEVER}),
        ("NEAR(cancel contract, 2)", {CANCEL}),
        ("NEAR(contract cancel, 8)", {CANCEL, DISCOUNT}),
        ('NEAR("late fee" refund, 3)', {REFUND_TODAY}),
        ("e-mail", {EMAIL}),
        ("email", set()),
        ("can't", {CANT}),
        ("resume", {CANT}),  # diacritics fold both ways
        ("RÉSUMÉ", {CANT}),
        ("and", {REFUNDS, LATE_FEE}),  # lower-case "and" is a word
        ('"NOT"', set()),
    ],
)
def test_query_finds_exactly(db: Database, query: str, expected: set[str]) -> None:
    assert _texts(db, query) == expected


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (SearchFilters(speaker_role="customer"), {LATE_FEE, NEVER}),
        (SearchFilters(speaker_role="agent"), {REFUND_TODAY}),
        (SearchFilters(customer="maria"), {LATE_FEE, REFUND_TODAY, NEVER}),
        (SearchFilters(customer="MARIA@example.com"), {LATE_FEE, REFUND_TODAY, NEVER}),
        (SearchFilters(customer="06 1234 5678"), {LATE_FEE, REFUND_TODAY, NEVER}),
        (SearchFilters(customer="+31 6 12345678"), {LATE_FEE, REFUND_TODAY, NEVER}),
        (SearchFilters(customer="020 7946 0958"), set()),  # John's number: he never said refund
        (SearchFilters(customer="nobody"), set()),
        (SearchFilters(customer="50%"), set()),  # LIKE wildcards are literal
        (SearchFilters(agent="bob"), {NEVER}),
        (SearchFilters(agent="Anna"), {LATE_FEE, REFUND_TODAY}),
        (SearchFilters(date_from=date(2024, 3, 2)), {NEVER}),
        (SearchFilters(date_to=date(2024, 3, 1)), {LATE_FEE, REFUND_TODAY}),  # the end day is included
        (
            SearchFilters(date_from=date(2024, 3, 1), date_to=date(2024, 4, 10)),
            {LATE_FEE, REFUND_TODAY, NEVER},
        ),
        (SearchFilters(speaker_role="customer", agent="anna", date_to=date(2024, 3, 31)), {LATE_FEE}),
    ],
)
@pytest.mark.parametrize(
    ("rows_per_match", "ids_handed_on", "ranked_per_row"),
    [(0, 500, 8), (0, 500, 0), (10**6, 500, 8), (10**6, 0, 8)],
    ids=[
        "matches ranked first",
        "matches joined",
        "allowed rows gathered by ids",
        "allowed rows gathered by query",
    ],
)
def test_filters_narrow_the_matches(
    db: Database,
    filters: SearchFilters,
    expected: set[str],
    rows_per_match: int,
    ids_handed_on: int,
    ranked_per_row: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same answer in every shape of a filtered query on SQLite (PostgreSQL has one shape)."""
    monkeypatch.setattr(search, "GATHERED_ROWS_PER_JOINED_MATCH", rows_per_match)
    monkeypatch.setattr(search, "_PARENT_IDS_HANDED_ON", ids_handed_on)
    monkeypatch.setattr(search, "RANKED_PER_WANTED_ROW", ranked_per_row)
    assert _texts(db, "refund", filters) == expected


@pytest.mark.parametrize(
    "filters",
    [
        SearchFilters(speaker_role="customer"),
        SearchFilters(date_from=date(2024, 3, 2)),
        SearchFilters(agent="a"),
    ],
)
def test_ranking_the_best_matches_first_pages_as_joining_every_match_does(
    db: Database, filters: SearchFilters, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ranked first, only a few of the best matches are filtered, falling back to joining every match
    when too few of those pass: every page is the one that filtering every match gives."""
    monkeypatch.setattr(search, "GATHERED_ROWS_PER_JOINED_MATCH", 0)  # never gathered
    query = "refund* OR fee OR can OR the OR I"

    def pages(ranked_per_row: int) -> list[tuple[bool, list[tuple[int | None, str, float]]]]:
        monkeypatch.setattr(search, "RANKED_PER_WANTED_ROW", ranked_per_row)
        found = []
        for limit, offset in itertools.product((1, 2, 3), (0, 1, 3)):
            page = search_utterances(db, query, filters, limit=limit, offset=offset)
            found.append((page.has_more, [(hit.utterance_id, hit.snippet, hit.score) for hit in page.hits]))
        return found

    joined = pages(0)
    assert any(hits for _, hits in joined) and any(more for more, _ in joined)
    assert pages(1) == joined and pages(2) == joined and pages(8) == joined


def test_a_filter_that_allows_fewer_rows_than_match_drives_the_query(db: Database) -> None:
    """John's one call allows fewer utterances than a frequent query matches: those are gathered and
    the index's matches only look themselves up among them. A broad filter does not gather."""
    statements: list[str] = []

    def record(conn, cursor, statement: str, *_: object) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    frequent = "refund* OR cancel OR fee OR can OR the OR I"
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        narrow = _texts(db, frequent, SearchFilters(customer="John Smith"))
        narrow_statements, statements[:] = list(statements), []
        broad = _texts(db, "voucher", SearchFilters(date_from=date(2024, 1, 1)))
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert narrow == {CANCEL, DISCOUNT, CANT} and broad == {REFUNDS}
    if db.engine.dialect.name == "sqlite":
        gathered = re.compile(r"utterances_fts\.rowid \+ \? IN \(SELECT utterances\.id")
        assert any(gathered.search(statement) for statement in narrow_statements)
        assert not any(gathered.search(statement) for statement in statements)


def test_names_fold_case_beyond_ascii_on_both_backends(db: Database) -> None:
    """ "GARCÍA" finds "García": SQLite through the trigram index (its LIKE folds only ASCII letters),
    PostgreSQL through lower()."""
    assert _texts(db, "refund", SearchFilters(customer="GARCÍA")) == {LATE_FEE, REFUND_TODAY, NEVER}
    assert _texts(db, "refund", SearchFilters(customer="GARCíA")) == {LATE_FEE, REFUND_TODAY, NEVER}


def test_customer_filter_by_phone_finds_the_other_customer(db: Database) -> None:
    assert _texts(db, "cancel", SearchFilters(customer="020 7946 0958")) == {CANCEL, DISCOUNT}


def test_equally_good_matches_come_in_stored_order(database_url: str, tmp_path: Path) -> None:
    db = open_test_database(database_url, tmp_path)
    try:
        _insert_calls(db)
        _insert_calls(db, suffix="-again")  # the same lines again: equal bm25 scores
        hits = search_utterances(db, '"late fee"', SearchFilters()).hits
        assert [hit.score for hit in hits] == sorted(hit.score for hit in hits)
        for better, worse in itertools.pairwise(hits):
            assert better.score < worse.score or (better.utterance_id or 0) < (worse.utterance_id or 0)
        assert len({hit.score for hit in hits}) < len(hits)  # the ties really happened
    finally:
        db.engine.dispose()


def test_hit_carries_the_call_context_and_a_highlighted_snippet(db: Database) -> None:
    [hit] = search_utterances(db, "invoice", SearchFilters()).hits
    assert (hit.customer_name, hit.agent_name, hit.speaker_label, hit.speaker_role) == (
        "Maria García",
        "Anna",
        "SPEAKER_1",
        "customer",
    )
    assert (hit.start, hit.end) == (5.0, 9.0)
    assert hit.started_at is not None and hit.started_at.date() == date(2024, 3, 1)
    assert f"on my {HIGHLIGHT_START}invoice{HIGHLIGHT_END} and" in hit.snippet
    assert hit.snippet.count(HIGHLIGHT_START) == hit.snippet.count(HIGHLIGHT_END) == 1
    with db.engine.connect() as connection:
        thread_id, customer_id = connection.execute(
            select(Recording.thread_id, Thread.customer_id)
            .join(Thread, Thread.id == Recording.thread_id)
            .where(Recording.id == hit.recording_id)
        ).one()
    assert (hit.thread_id, hit.customer_id) == (thread_id, customer_id)


def test_best_match_first_then_paged(db: Database) -> None:
    hits = search_utterances(db, "fee", SearchFilters()).hits
    assert [hit.score for hit in hits] == sorted(hit.score for hit in hits)
    assert hits[0].snippet.count(HIGHLIGHT_START) == 2  # "Fee fee" is the densest, shortest match

    first = search_utterances(db, "fee", SearchFilters(), limit=2)
    rest = search_utterances(db, "fee", SearchFilters(), limit=2, offset=2)
    assert first.has_more and not rest.has_more
    assert [hit.utterance_id for hit in first.hits + rest.hits] == [hit.utterance_id for hit in hits]


def test_a_frequent_word_is_ranked_among_its_newest_matches(database_url: str, tmp_path: Path) -> None:
    """So that a first page costs what ``rank_newest`` matches cost, not what every match costs."""
    db = open_test_database(database_url, tmp_path)
    try:
        _insert_calls(db)
        _insert_calls(db, suffix="-again")  # stored later: the newest matches
        every = search_utterances(db, "fee", SearchFilters())
        bounded = search_utterances(db, "fee", SearchFilters(), limit=2, rank_newest=3)
        filtered = search_utterances(db, "fee", SearchFilters(agent="Anna"), limit=1, rank_newest=1)
    finally:
        db.engine.dispose()
    assert len(every.hits) == 6 and every.ranked_newest is None
    # SQLite gathers the rows of so narrow a filter and ranks them all; PostgreSQL bounds any filter
    # that passes most of the newest matches, as this one does (to a page and one more: 2).
    assert filtered.ranked_newest == (None if db.engine.dialect.name == "sqlite" else 2)
    newest_three = sorted(hit.utterance_id or 0 for hit in every.hits)[-3:]
    assert (bounded.ranked_newest, bounded.has_more) == (3, True)
    assert {hit.utterance_id for hit in bounded.hits} <= set(newest_three)
    assert [hit.score for hit in bounded.hits] == sorted(hit.score for hit in bounded.hits)


@pytest.fixture
def twice(database_url: str, tmp_path: Path) -> Iterator[Database]:
    """Every call stored twice: the second copies are the newest matches."""
    db = open_test_database(database_url, tmp_path)
    _insert_calls(db)
    _insert_calls(db, suffix="-again")
    yield db
    db.engine.dispose()


BROAD_FILTERS = [SearchFilters(speaker_role="customer"), SearchFilters(date_from=date(2024, 3, 2))]
FREQUENT = "refund* OR fee OR can OR the OR I"


def _ranked(page: search.SearchPage) -> list[tuple[int | None, float]]:
    return [(hit.utterance_id, hit.score) for hit in page.hits]


@pytest.mark.parametrize("filters", BROAD_FILTERS)
def test_a_broad_filter_is_ranked_among_the_newest_matches_that_pass(
    twice: Database, filters: SearchFilters, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On SQLite a filter too broad to gather its rows (never gathered here) is bounded as an
    unfiltered query is: the page is the best of the newest ``rank_newest`` matches that pass (on
    PostgreSQL too, where no filter's rows are gathered)."""
    monkeypatch.setattr(search, "GATHERED_ROWS_PER_JOINED_MATCH", 0)
    monkeypatch.setattr(search, "FILTERED_MATCHES_PER_PASSING", 100)  # bounded however few pass
    every = search_utterances(twice, FREQUENT, filters, limit=search.MAX_LIMIT)
    assert every.ranked_newest is None and not every.has_more and len(every.hits) > 4
    newest_three = set(sorted(hit.utterance_id or 0 for hit in every.hits)[-3:])
    for ranked_per_row in (0, 8):  # every match joined to its call, or the best ranked first
        monkeypatch.setattr(search, "RANKED_PER_WANTED_ROW", ranked_per_row)
        bounded = search_utterances(twice, FREQUENT, filters, limit=2, rank_newest=3)
        assert (bounded.ranked_newest, bounded.has_more) == (3, True)
        assert _ranked(bounded) == [row for row in _ranked(every) if row[0] in newest_three][:2]


@pytest.mark.parametrize(("filters", "rank_newest"), list(zip(BROAD_FILTERS, (6, 7), strict=True)))
def test_a_broad_filter_ranks_as_far_back_as_its_share_in_the_sample_says(
    twice: Database, filters: SearchFilters, rank_newest: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the sample of the newest matches holds no more than ``rank_newest`` that pass, the window
    reaches back ``rank_newest`` over the share that passed there, and the page is the best of the
    matches in it that pass: here one fewer than ``rank_newest``, where the exact newest
    ``rank_newest`` that pass would have one more."""
    monkeypatch.setattr(search, "GATHERED_ROWS_PER_JOINED_MATCH", 0)
    monkeypatch.setattr(search, "FILTER_SAMPLE", 4)
    everything = search_utterances(twice, FREQUENT, SearchFilters(), limit=search.MAX_LIMIT)
    matches = sorted((hit.utterance_id or 0 for hit in everything.hits), reverse=True)
    every = search_utterances(twice, FREQUENT, filters, limit=search.MAX_LIMIT)
    passing = {hit.utterance_id for hit in every.hits}
    passed = sum(match in passing for match in matches[:4])
    window = set(matches[: math.ceil(rank_newest * 4 / passed)])
    in_window = [row for row in _ranked(every) if row[0] in window]
    assert 2 < passed <= rank_newest < len(passing) and len(in_window) == rank_newest - 1
    limit = rank_newest - 1
    bounded = search_utterances(twice, FREQUENT, filters, limit=limit, rank_newest=rank_newest)
    assert (bounded.ranked_newest, bounded.has_more) == (rank_newest, False)
    assert _ranked(bounded) == in_window


@pytest.mark.parametrize("filters", BROAD_FILTERS)
def test_a_broad_filter_that_passes_no_more_than_the_bound_ranks_every_match(
    twice: Database, filters: SearchFilters, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When no more than ``rank_newest`` matches pass (or too few of the newest matches pass), every
    page is the page of the unbounded search and says it is not bounded."""
    monkeypatch.setattr(search, "GATHERED_ROWS_PER_JOINED_MATCH", 0)
    passing = len(search_utterances(twice, FREQUENT, filters, limit=search.MAX_LIMIT).hits)
    for rank_newest, matches_per_passing in ((passing, 100), (passing - 1, 1)):
        monkeypatch.setattr(search, "FILTERED_MATCHES_PER_PASSING", matches_per_passing)
        for limit, offset in itertools.product((1, 2, 5), (0, 1, 3)):
            every = search_utterances(twice, FREQUENT, filters, limit=limit, offset=offset)
            page = search_utterances(
                twice, FREQUENT, filters, limit=limit, offset=offset, rank_newest=rank_newest
            )
            assert page == every and page.ranked_newest is None


def _add_chats(db: Database, customer: str, bodies: tuple[str, ...]) -> None:
    """Two chat threads of ``customer``, each holding every one of ``bodies``, stored after the calls."""
    with session_scope(db) as session:
        person = session.scalars(select(Customer).where(Customer.display_name == customer)).first()
        for number in range(2):
            session.add(
                Thread(
                    customer=person,
                    channel="chat",
                    provider="test",
                    provider_id=f"chat-{number}",
                    started_at=datetime(2024, 5, 1 + number, 9, 0, tzinfo=UTC),
                    messages=[
                        Message(
                            provider_message_id=f"chat-{number}-{seq}",
                            direction="inbound",
                            author=customer,
                            sent_at=datetime(2024, 5, 1 + number, 9, seq, tzinfo=UTC),
                            body=body,
                        )
                        for seq, body in enumerate(bodies)
                    ],
                )
            )


@pytest.mark.parametrize("role", [None, "customer"])
@pytest.mark.parametrize("walks", [True, False])
def test_a_filter_that_picks_calls_is_ranked_among_the_matches_of_its_newest_calls(
    twice: Database, walks: bool, role: Role | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL, a filter that picks calls or threads (a customer) and passes too few of the
    newest matches to bound them there is bounded by walking the calls, and the chat threads, that
    it picks newest first, each one's matches newest first, when each holds enough matches: the page
    is the best of the first ``rank_newest`` matches so walked, of each kind. Too few matches a call,
    and every match that passes is ranked, as SQLite always does (gathering those rows). With a
    speaker role too, each call's lines of that role are walked (through its speakers)."""
    _add_chats(twice, "Maria García", ("I want a refund", "the fee again", "can I pay later"))
    monkeypatch.setattr(search, "FILTER_SAMPLE", 4)
    monkeypatch.setattr(search, "FILTERED_MATCHES_PER_PASSING", 0)  # never bounded by the sample
    monkeypatch.setattr(search, "MATCHES_PER_WALKED_PARENT", 0 if walks else 10**6)
    filters = SearchFilters(customer="Maria García", speaker_role=role)
    every = search_utterances(twice, FREQUENT, filters, limit=search.MAX_LIMIT)
    assert every.ranked_newest is None and {hit.channel for hit in every.hits} == {"call", "chat"}
    assert role is None or {hit.speaker_role for hit in every.hits} == {role}
    rank_newest, limit = 3, 2
    bounded = search_utterances(twice, FREQUENT, filters, limit=limit, rank_newest=rank_newest)
    if twice.engine.dialect.name == "sqlite" or not walks:
        assert bounded.ranked_newest is None and bounded.hits == every.hits[:limit]
        return

    def walked_first(channel_is_call: bool) -> set[int | None]:
        of_kind = [hit for hit in every.hits if (hit.channel == "call") == channel_is_call]
        walked = sorted(
            of_kind, key=lambda hit: (hit.thread_id, hit.utterance_id or hit.message_id), reverse=True
        )
        return {hit.utterance_id or hit.message_id for hit in walked[:rank_newest]}

    window = walked_first(True) | walked_first(False)
    assert (bounded.ranked_newest, bounded.has_more) == (rank_newest, True)
    assert (
        bounded.hits
        == tuple(hit for hit in every.hits if (hit.utterance_id or hit.message_id) in window)[:limit]
    )


@pytest.mark.parametrize(
    ("query", "walks"),
    [
        ('"late fee"', True),
        ("refund AND fee", True),
        ('"late fee" OR cancel', True),
        ("NEAR(refund fee, 8)", True),
        ("fee OR cancel", False),
        ("ref*", False),
    ],
)
def test_the_newest_matches_are_the_same_walked_or_read_through_the_index(
    twice: Database, query: str, walks: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL walks the newest rows for the bound of a phrase, an AND or a NEAR when its statistics say
    the words are frequent enough, and reads the matches through the GIN index otherwise (or when
    the walk falls short): the same page either way."""
    if twice.engine.dialect.name == "postgresql":
        with twice.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    statements: list[str] = []

    def record(conn, cursor, statement: str, *_: object) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    def pages(walked_rows_per_bound: int) -> list[search.SearchPage]:
        monkeypatch.setattr(search, "WALKED_ROWS_PER_BOUND", walked_rows_per_bound)
        statements.clear()
        return [
            search_utterances(
                twice, query, SearchFilters(), limit=limit, offset=offset, rank_newest=rank_newest
            )
            for rank_newest, limit, offset in itertools.product((1, 2, 3, 100), (1, 2), (0, 1))
        ]

    read = pages(0)  # never walked
    assert any(page.ranked_newest for page in read) and any(page.hits for page in read)
    event.listen(twice.engine, "before_cursor_execute", record)
    try:
        assert pages(3) == read  # some walks fall short of the bound: then read through the index
        assert pages(100) == read
    finally:
        event.remove(twice.engine, "before_cursor_execute", record)
    walked = re.compile(r"FROM \(SELECT utterances\.id AS key, utterances\.text_tsv AS vector")
    if twice.engine.dialect.name == "postgresql":
        assert any(walked.search(statement) for statement in statements) == walks


def test_a_search_is_not_compiled_to_machine_code_and_leaves_the_setting_as_it_was(db: Database) -> None:
    """On PostgreSQL every statement of a search runs with JIT off (compiling it cost more than the page:
    ``search._WITHOUT_JIT``), for that search's transaction only: its connection goes back to the pool
    with the server's setting. SQLite has no such setting and is sent none."""
    seen: list[tuple[str, str | None]] = []  # (statement, jit as that statement runs)
    connections = []

    def record(conn, cursor, statement: str, *_: object) -> None:  # type: ignore[no-untyped-def]
        setting = None
        if conn.dialect.name == "postgresql":
            connections.append(conn.connection.dbapi_connection)
            with conn.connection.dbapi_connection.cursor() as own:
                own.execute("SHOW jit")
                setting = own.fetchone()[0]
        seen.append((statement, setting))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        hits = search_utterances(db, FREQUENT, SearchFilters(speaker_role="customer")).hits
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert hits
    if db.engine.dialect.name == "sqlite":
        assert not any("jit" in statement.lower() for statement, _ in seen)
        return
    assert [setting for statement, setting in seen if not statement.startswith("SET")] == ["off"] * (
        len(seen) - 1
    )
    [used] = set(connections)
    with used.cursor() as own:  # back in the pool, idle
        own.execute("SHOW jit")
        assert own.fetchone()[0] == "on"
    used.rollback()


def test_index_follows_edits_and_deletes(database_url: str, tmp_path: Path) -> None:
    db = open_test_database(database_url, tmp_path)
    try:
        _insert_calls(db)
        with session_scope(db) as session:
            session.execute(
                update(Utterance).where(Utterance.text == NEVER).values(text="Where is my chargeback?")
            )
        assert _texts(db, "chargeback") == {"Where is my chargeback?"}
        assert _texts(db, "arrived") == set()

        with session_scope(db) as session:
            session.execute(delete(Recording).where(Recording.original_name == "call-1.wav"))
        assert _texts(db, "refund") == set()
        assert _texts(db, "refunds") == {REFUNDS}
    finally:
        db.engine.dispose()


def test_migration_indexes_utterances_that_already_exist(database_url: str, tmp_path: Path) -> None:
    """Upgrading a database that has transcripts from before revision 0002 makes them searchable, and
    the migrations that rebuild tables other rows point at (threads, 0010) keep every row both ways."""
    from alembic import command

    from storage.db import alembic_config

    db = open_test_database(database_url, tmp_path)
    try:
        # Stored at head and taken down to 0001 (the rows stay), not stored at 0001: the models
        # describe the newest schema, and later columns would not fit an 0001 table.
        _insert_calls(db)
        with db.engine.connect() as connection:
            command.downgrade(alembic_config(connection), "0001")
            connection.commit()
            assert connection.exec_driver_sql("SELECT count(*) FROM utterances").scalar()
        with db.engine.connect() as connection:
            command.upgrade(alembic_config(connection), "head")
            connection.commit()
        assert _texts(db, "voucher") == {REFUNDS}
    finally:
        db.engine.dispose()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"speaker_role": "boss"}, "speaker role 'boss' is not one of agent, customer, ivr, other"),
        ({"customer": "  "}, "customer filter is empty"),
        ({"date_from": date(2024, 2, 1), "date_to": date(2024, 1, 1)}, "date range is backwards"),
    ],
)
def test_bad_filters_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidValue, match=message):
        SearchFilters(**kwargs)  # type: ignore[arg-type]


def test_bad_query_raises_query_error_not_sql_error(db: Database) -> None:
    with pytest.raises(QueryError, match="unbalanced quote at position 8"):
        search_utterances(db, 'refund "late', SearchFilters())
    with pytest.raises(InvalidValue, match="limit must be between 1 and 500"):
        search_utterances(db, "refund", SearchFilters(), limit=0)


_PIECES = st.sampled_from(
    ["AND", "OR", "NOT", "NEAR(", "(", ")", '"', "-", "*", ",", " ", "3", "refund", "late fee", "e-mail",
     "can't", "é", "\u0301", "?", "^", ":", "text:", "{", "}", "+", "'", "\\", "\x00"]
)  # fmt: skip


@settings(max_examples=400, deadline=None, database=None)
@given(st.one_of(st.text(max_size=60), st.lists(_PIECES, max_size=25).map("".join)))
def test_any_text_runs_against_the_real_index_or_raises_query_error(db: Database, query: str) -> None:
    try:
        tree = parse_query(query)
    except QueryError:
        return
    with db.engine.connect() as connection:  # the bare match: nothing else could hide a syntax error
        if connection.dialect.name == "sqlite":
            bare, expression = "utterances_fts WHERE utterances_fts MATCH :q", compile_fts5(tree)
        else:
            bare, expression = "utterances WHERE text_tsv @@ to_tsquery('earshot', :q)", compile_tsquery(tree)
        connection.execute(text(f"SELECT count(*) FROM {bare}"), {"q": expression}).scalar_one()
    search_utterances(db, query, SearchFilters(speaker_role="customer", agent="a"))
