"""Search over calls and messages: the query tree compiled for SQLite FTS5 or PostgreSQL tsquery, and
the search itself over call transcripts and chat/e-mail messages together.

Only trees from ``storage.query.parse_query`` are compiled, and every word is emitted quoted, so a
user's text can never be read as backend syntax. The search's dialect-specific SQL lives here,
the customer lookups' in ``storage.substrings``, and the indexes they use in the migrations
(``0002_search_index``, ``0005_customer_history``, ``0026_substring_indexes``).
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, get_args

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    FromClause,
    Join,
    Select,
    Subquery,
    TableClause,
    and_,
    case,
    column,
    func,
    literal_column,
    null,
    select,
    table,
    text,
    true,
    union,
)
from sqlalchemy.dialects.postgresql import REGCONFIG
from sqlalchemy.orm import InstrumentedAttribute, Session

from storage.db import Database, read_scope
from storage.errors import InvalidValue
from storage.identities import IdentityKind
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
    as_utc,
)
from storage.query import And, Near, Node, Not, Or, Phrase, Prefix, Term, parse_query
from storage.substrings import customers_named, customers_with_identity_ending, fts5_string
from transcribe.types import ROLES, Role

# Snippets mark matched words with these control characters (start/end of text): they never occur
# in transcripts, unlike quotes or brackets, so a renderer can replace them without ambiguity.
HIGHLIGHT_START = "\x02"
HIGHLIGHT_END = "\x03"
SNIPPET_ELLIPSIS = "…"
SNIPPET_WORDS = 16
MAX_LIMIT = 500
# An unfiltered query ranks at most this many matches per index, the most recently stored: bm25 and
# ts_rank score every row they rank, so a first page for a word in 175,000 utterances cost 190 ms
# on SQLite and 400-980 ms on PostgreSQL; bounded, it costs what this many do
# (bench/search_latency.py). Deeper pages widen it.
RANK_NEWEST = 5000
# SQLite, filtered search: joining a match to its call and filtering it costs about this many times
# what gathering one allowed row and probing it does (bench/search_latency.py, 1M utterances: 2.5 µs
# against 0.25-0.3 µs), so the filters' rows are gathered unless they outnumber the matches by more.
GATHERED_ROWS_PER_JOINED_MATCH = 8
# SQLite, a filter that allows too many rows to gather: the best this many times a page's rows of all
# the matches are ranked first and only those filtered; when fewer than a page's rows pass, every
# match is joined to its call and filtered instead.
RANKED_PER_WANTED_ROW = 8
# SQLite: bm25 scoring a match costs about as much as gathering this many allowed rows (1M utterances:
# 0.8 µs against 0.3 µs), so a filter that picks more calls than are handed on is not gathered when
# ranking every match costs less than gathering the rows of the calls already read.
GATHERED_ROWS_PER_RANKED_MATCH = 3
# A filter (on SQLite, one too broad to gather its rows) is bounded as an unfiltered query is,
# ranked among about the newest ``bound`` matches that pass it, when at least one in this many of
# its newest matches passes (a date range, a speaker role); the others keep their shapes.
FILTERED_MATCHES_PER_PASSING = 2
# How many pass is estimated on this many of the newest matches, each joined to its call and
# filtered (a share known to a few points); the window then reaches back as far as that share says,
# on the index alone. "technician" from February (37k matches at 1M utterances, 34k pass): on SQLite,
# walking and joining the newest matches for exactly the newest 5,000 that pass cost 7-10 ms, the
# sample under 1 ms, ranking the window 5 ms; on PostgreSQL at 10M (371k matches), ranking every
# match that passes cost 955 ms, the sample 8 ms, the window's floor 27 ms and ranking it 44 ms. A
# narrow filter pays the sample for nothing: 3-27 ms at 10M, the filter worked out once more.
FILTER_SAMPLE = 200
# PostgreSQL: a filter that picks calls or threads (a customer, an agent, dates) and passes too few of
# the newest matches to bound them is ranked among the matches of the newest calls or threads it
# picks (``_ranked_in_newest_parents``) when each holds at least this many matches (by the share of
# the newest rows that match): the walk then visits about ``bound`` of them or fewer, each a few index
# lookups (10M utterances: 20-30 µs a call). Sparser matches keep the plan that ranks every match
# that passes ("technician thursday", 0.16 matches a call: walking for 5,000 would visit 32k calls).
MATCHES_PER_WALKED_PARENT = 1.0
# PostgreSQL, an unfiltered phrase, AND or NEAR (``_combines_words``): its newest matches are found by
# walking the primary key newest first, no further than this many times ``bound`` rows, when its
# words' frequencies (pg_stats, which do not say fewer matches than there are: a phrase matches no
# more rows than its rarest word) say that the walk reaches the bound; else, or when it does not,
# through the GIN index as the planner chooses. The planner reads words together as rarer than they
# are and so read every match through the GIN index (1M utterances, "late fee", 71k matches: the
# floor in 142 ms, walked 14 ms; "cancel my contract", 34k matches: 145k rows walked). A walk that
# falls short costs what its rows cost (1M: 200k rows, 20-40 ms).
WALKED_ROWS_PER_BOUND = 40
# At most this many calls' or threads' ids are handed from the choice to the query as values (one JSON
# array: no limit on bound parameters), so that the filters are not worked out twice.
_PARENT_IDS_HANDED_ON = 5000
# A customer filter with at least this many digits is also read as (part of) a phone number.
_MIN_PHONE_DIGITS = 6
CHANNEL_NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")


def compile_fts5(node: Node) -> str:
    """An FTS5 MATCH expression. FTS5's NOT is binary (``a NOT b``), so a ``Not`` is only valid
    inside an ``And`` that also holds something to search for; the parser guarantees that."""
    match node:
        case Term(text):
            return fts5_string(text)
        case Prefix(text):
            return fts5_string(text) + "*"
        case Phrase(words, prefix):
            return fts5_string(" ".join(words)) + ("*" if prefix else "")
        case Near(terms, distance):
            return f"NEAR({' '.join(compile_fts5(term) for term in terms)}, {distance})"
        case Or(items):
            return "(" + " OR ".join(compile_fts5(item) for item in items) + ")"
        case And(items):
            wanted = [compile_fts5(item) for item in items if not isinstance(item, Not)]
            if not wanted:
                raise ValueError("an And needs at least one item that is not a Not for FTS5")
            expression = wanted[0] if len(wanted) == 1 else "(" + " AND ".join(wanted) + ")"
            for item in items:
                if isinstance(item, Not):
                    expression = f"({expression} NOT {compile_fts5(item.item)})"
            return expression
        case Not():
            raise ValueError("FTS5 cannot search for a Not alone; it must be an item of an And")
    raise TypeError(f"not a query node: {node!r}")


def compile_tsquery(node: Node) -> str:
    """A PostgreSQL ``to_tsquery('simple', ...)`` expression.

    PostgreSQL has no "within N words": ``a <k> b`` means b exactly k positions after a. So
    ``NEAR(a b, N)`` becomes every distance that FTS5 accepts (0..N words between them, i.e.
    ``<1>`` .. ``<N+1>``) in both orders. With three or more terms each neighbouring pair is checked
    on its own, which is looser than FTS5 (one window holding all terms).
    """
    match node:
        case Term(text):
            return _lexeme(text)
        case Prefix(text):
            return _lexeme(text) + ":*"
        case Phrase(words, prefix):
            return "(" + " <-> ".join(_lexeme(word) for word in words) + (":*" if prefix else "") + ")"
        case Near(terms, distance):
            pairs = [_within(terms[i], terms[i + 1], distance) for i in range(len(terms) - 1)]
            return pairs[0] if len(pairs) == 1 else "(" + " & ".join(pairs) + ")"
        case Or(items):
            return "(" + " | ".join(compile_tsquery(item) for item in items) + ")"
        case And(items):
            return "(" + " & ".join(compile_tsquery(item) for item in items) + ")"
        case Not(item):
            return "!" + compile_tsquery(item)
    raise TypeError(f"not a query node: {node!r}")


def _within(first: Node, second: Node, distance: int) -> str:
    a, b = compile_tsquery(first), compile_tsquery(second)
    steps = range(1, distance + 2)
    return "(" + " | ".join([f"{a} <{k}> {b}" for k in steps] + [f"{b} <{k}> {a}" for k in steps]) + ")"


def _lexeme(text: str) -> str:
    # A quoted tsquery lexeme: a quote is doubled and a backslash escapes, everything else is literal.
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


@dataclass(frozen=True)
class SearchFilters:
    """Narrow a search. Customer and agent match case-insensitively inside names; the customer also
    matches any identity value exactly, or a phone by its last digits (so "06 1234 5678" finds
    +31612345678 without knowing the caller's country). Dates are whole UTC days, both inclusive:
    the call's start, or when a message was sent. ``channel`` is call, chat, email, whatsapp, sms...
    For chats and e-mails the customer "speaks" the inbound messages and the agent the outbound ones."""

    speaker_role: Role | None = None
    customer: str | None = None
    agent: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    channel: str | None = None

    def narrows(self) -> bool:
        """Whether a filter beyond the channel is set: those need the call or thread around a match."""
        return any((self.speaker_role, self.customer, self.agent, self.date_from, self.date_to))

    def __post_init__(self) -> None:
        if self.speaker_role is not None and self.speaker_role not in ROLES:
            raise InvalidValue(f"speaker role {self.speaker_role!r} is not one of {', '.join(ROLES)}")
        for name in ("customer", "agent"):
            value = getattr(self, name)
            if value is not None and not value.strip():
                raise InvalidValue(f"{name} filter is empty")
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise InvalidValue(f"date range is backwards: from {self.date_from} is after to {self.date_to}")
        if self.channel is not None and not CHANNEL_NAME.fullmatch(self.channel):
            raise InvalidValue(
                f"channel {self.channel!r} is not a channel name (call, chat, email, whatsapp, sms, ...)"
            )


@dataclass(frozen=True)
class SearchHit:
    """A matching utterance of a call, or a matching chat or e-mail message."""

    channel: str  # call | chat | email | whatsapp | ...
    thread_id: int
    recording_id: int | None  # calls only
    utterance_id: int | None  # calls only
    message_id: int | None  # chats and e-mails only
    customer_id: int | None
    customer_name: str | None
    agent_name: str | None
    started_at: datetime | None  # the call's start, or when the message was sent
    speaker_label: str  # the transcript's speaker label, or the message's author
    speaker_role: Role | None  # for a message: customer (inbound) or agent (outbound)
    start: float | None  # seconds into the call; None for a message
    end: float | None
    snippet: str  # matched words between HIGHLIGHT_START and HIGHLIGHT_END
    score: float  # lower is a better match: bm25 on SQLite, minus ts_rank on PostgreSQL


@dataclass(frozen=True)
class SearchPage:
    hits: tuple[SearchHit, ...]
    offset: int
    has_more: bool
    # Ranked among only the most recently stored matches (this many per index): there are more.
    ranked_newest: int | None = None


_UTTERANCES_FTS = table("utterances_fts", column("rowid"))
_MESSAGES_FTS = table("messages_fts", column("rowid"))
_DIRECTION_OF_ROLE = {"customer": "inbound", "agent": "outbound"}


def channels_in_use(db: Database) -> list[str]:
    """Every channel the data holds (call, chat, email, and whatever an importer brought: whatsapp,
    sms, messenger...), so a channel filter offers them all. Channel names only: no one's data."""
    with read_scope(db) as session:
        return sorted(session.scalars(select(Thread.channel).distinct()))


def search_utterances(
    db: Database,
    query: str,
    filters: SearchFilters,
    limit: int = 50,
    offset: int = 0,
    rank_newest: int = RANK_NEWEST,
) -> SearchPage:
    """One page of call utterances and chat/e-mail messages matching a user's query, best match first
    (bm25), equally good ones calls first and then in the order they were stored. Raises
    ``QueryError`` for a query the parser rejects, before any SQL.

    Each index is ranked on its own (plus the joins a filter needs) for the first ``offset + limit``
    rows, and the two ranked lists are merged: each query keeps SQLite's top-N heap, which computes a
    snippet only for a row that enters it (a UNION of the two would compute one for every match;
    bench/history_scale.py measures both). The details are then read for the page only. Both indexes
    use the same tokenizer, so one compiled expression serves both and their bm25 scales agree
    (the corpus statistics differ per index, so a score is comparable, not identical).

    An unfiltered query that matches more than ``rank_newest`` rows of an index is ranked among the
    ``rank_newest`` most recently stored of them (``SearchPage.ranked_newest`` says so), so that a
    first page does not cost in proportion to every match. So is a filtered one when a filter (on
    SQLite, one too broad to gather its rows: a date range, a speaker role) passes more than
    ``rank_newest`` matches and at least one in ``FILTERED_MATCHES_PER_PASSING`` of the newest: among
    about the ``rank_newest`` newest that pass (``_newest_allowed_floor``). On PostgreSQL, one that
    picks calls or threads and passes fewer of the newest, among the first ``rank_newest`` matches of
    the newest calls or threads it picks, when they hold enough matches (``_ranked_in_newest_parents``).
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidValue(f"limit must be between 1 and {MAX_LIMIT}, not {limit}")
    if offset < 0:
        raise InvalidValue(f"offset must not be negative, not {offset}")
    dialect = db.engine.dialect.name
    if dialect not in ("sqlite", "postgresql"):
        raise InvalidValue(f"search needs SQLite or PostgreSQL, not {dialect}")
    tree = parse_query(query)
    wanted = offset + limit + 1  # one more than asked tells whether another page exists
    bound = max(rank_newest, wanted)
    with read_scope(db) as session:  # one transaction: every statement sees the same snapshot
        if dialect == "postgresql":
            session.execute(_WITHOUT_JIT)
        ranked: list[tuple[float, int, int, str]] = []  # (score, 0 call | 1 message, rowid, snippet)
        sources: list[tuple[int, _Ranked]] = []  # (0 call | 1 message, its ranking)
        if filters.channel in (None, "call"):
            sources.append((0, _ranked_calls(session, dialect, tree, filters, wanted, bound)))
        if filters.channel != "call" and filters.speaker_role in (None, *_DIRECTION_OF_ROLE):
            sources.append((1, _ranked_messages(session, dialect, tree, filters, wanted, bound)))
        capped = False
        for kind, ranking in sources:
            rows, bounded = ranking.rows(session)
            capped = capped or bounded
            ranked += [(score, kind, rowid, snippet) for rowid, snippet, score in rows]
        ranked.sort(key=lambda row: row[:3])
        page = ranked[offset : offset + limit]
        calls = _call_details(session, [rowid for _, kind, rowid, _ in page if kind == 0])
        messages = _message_details(session, [rowid for _, kind, rowid, _ in page if kind == 1])
    hits = tuple(
        SearchHit(*(calls if kind == 0 else messages)[rowid] + (snippet, score))
        for score, kind, rowid, snippet in page
    )
    return SearchPage(
        hits=hits,
        offset=offset,
        has_more=len(ranked) > offset + limit,
        ranked_newest=bound if capped else None,
    )


@dataclass(frozen=True)
class _Ranked:
    """One index's ranking query, and whether it was bounded to the newest matches with more left out.
    The query yields (rowid, snippet, score), or only (rowid, snippet) when ``scores`` were found
    before it, or (rowid, snippet, score, matches walked) when the window is the matches a walk found
    up to ``walked_bound`` (capped when it found more; ``short_walk`` ranks instead when it found no
    more and may have stopped short of others)."""

    query: Select[Any]
    capped: bool
    scores: dict[int, float] | None = None
    walked_bound: int | None = None
    short_walk: Callable[[], _Ranked] | None = None  # the ranking when the walk found too few

    def rows(self, session: Session) -> tuple[list[tuple[int, str, float]], bool]:
        """The ranked rows, and whether they were ranked among the newest with more left out."""
        if self.scores == {}:
            return [], self.capped
        found = session.execute(self.query).all()
        if self.walked_bound is not None:
            walked = max((row[3] for row in found), default=0)
            if walked <= self.walked_bound and self.short_walk is not None:
                return self.short_walk().rows(session)
            return [(rowid, snippet, score) for rowid, snippet, score, _ in found], walked > self.walked_bound
        if self.scores is None:
            return [(rowid, snippet, score) for rowid, snippet, score in found], self.capped
        return [(rowid, snippet, self.scores[rowid]) for rowid, snippet in found], self.capped


def _newest_floor(session: Session, matches: Select[Any], key: Any, bound: int | None) -> int | None:
    """The key below the ``bound`` most recently stored of ``matches``, or None when there are no
    more than that (or no bound). Both engines walk their matches newest first and stop at the bound
    (FTS5 in rowid order; PostgreSQL down the primary key), so finding it costs what ``bound`` rows
    cost; the ranking then starts from there (a key range)."""
    if bound is None:
        return None
    return session.scalar(matches.order_by(None).limit(None).order_by(key.desc()).offset(bound).limit(1))


def _newest_sample(session: Session, matches: Select[Any], key: Any) -> list[int]:
    """The keys of the newest ``FILTER_SAMPLE`` of ``matches``, newest first."""
    return list(session.scalars(matches.order_by(key.desc()).limit(FILTER_SAMPLE)))


def _newest_allowed_floor(
    session: Session,
    sample: list[int],
    checked: Select[Any],
    floor_of: Callable[[int], int | None],
    bound: int,
) -> int | None:
    """The floor of a ranking window holding about the ``bound`` newest matches that the filters
    allow, when at least one in ``FILTERED_MATCHES_PER_PASSING`` of the newest matches passes them;
    else None. How many pass is read off the ``_newest_sample`` of the matches, each looked up by
    ``checked`` (the keys the filters pass of those given); the floor is exact when the sample holds
    more than ``bound`` that pass, else the window reaches back as far as the sample's share says
    (``floor_of`` that many matches, on the text index alone)."""
    # The sample's keys are read first and handed on: as a subquery, PostgreSQL joined every row the
    # filters allow to it (10M utterances, one agent: 186 ms).
    sampled = len(sample)
    passed = next(iter(checked.selected_columns))
    passing = list(session.scalars(checked.where(passed.in_(sample)).order_by(passed.desc())))
    if len(passing) * FILTERED_MATCHES_PER_PASSING <= sampled:
        return None  # a filter that passes few of the newest matches keeps its other shapes
    if len(passing) > bound:
        return passing[bound]
    if sampled < FILTER_SAMPLE:
        return None  # every match was sampled: no more than ``bound`` pass
    return floor_of(math.ceil(bound * sampled / len(passing)))


def threads_matching(
    session: Session, query: str, filters: SearchFilters, within: Collection[int] | None = None
) -> set[int]:
    """Every thread (a call's or a chat's or e-mail's) with an utterance or message that ``query``
    matches within ``filters``, as a search would find them: what a legal hold placed by query covers
    at the moment of asking, what a tracker tags. ``within``: only these threads are looked at (a
    tracker trying one new call, a contact reason rule asking about one conversation)."""
    tree = parse_query(query)
    only = [] if within is None else [Thread.id.in_(list(within))]
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        expression = compile_fts5(tree)
        said = literal_column(_UTTERANCES_FTS.name).match(expression)
        written = literal_column(_MESSAGES_FTS.name).match(expression)
        utterances = _join_call(_UTTERANCES_FTS.join(Utterance, Utterance.id == _UTTERANCES_FTS.c.rowid))
        messages = _join_message(_MESSAGES_FTS.join(Message, Message.id == _MESSAGES_FTS.c.rowid))
    else:
        tsquery = func.to_tsquery(_TS_CONFIG, compile_tsquery(tree))
        said = literal_column("utterances.text_tsv").bool_op("@@")(tsquery)
        written = literal_column("messages.body_tsv").bool_op("@@")(tsquery)
        utterances, messages = _join_call(Utterance.__table__), _join_message(Message.__table__)
    role = filters.speaker_role
    found: set[int] = set()
    if filters.channel in (None, "call"):
        by_role = [Speaker.role == role] if role is not None else []
        calls = (
            select(Thread.id)
            .select_from(utterances)
            .where(said, *only, *by_role, *_filter_clauses(filters, dialect, started=Thread.started_at))
        )
        found |= set(session.scalars(calls))
    if filters.channel != "call" and role in (None, *_DIRECTION_OF_ROLE):
        by_channel = [Thread.channel == filters.channel] if filters.channel is not None else []
        by_direction = [Message.direction == _DIRECTION_OF_ROLE[role]] if role is not None else []
        conversations = (
            select(Thread.id)
            .select_from(messages)
            .where(
                written,
                *only,
                *by_channel,
                *by_direction,
                *_filter_clauses(filters, dialect, started=Message.sent_at),
            )
        )
        found |= set(session.scalars(conversations))
    return found


def count_matches(db: Database, query: str) -> int:
    """How many utterances a query's text matches before any filter: what ranking must score (the
    search benchmark prints it beside each latency)."""
    tree = parse_query(query)
    with read_scope(db) as session:
        if db.engine.dialect.name == "sqlite":
            index: ColumnElement[Any] = literal_column(_UTTERANCES_FTS.name)
            counted = select(func.count()).select_from(_UTTERANCES_FTS).where(index.match(compile_fts5(tree)))
        else:
            vector: ColumnElement[Any] = literal_column("utterances.text_tsv")
            condition = vector.bool_op("@@")(func.to_tsquery(_TS_CONFIG, compile_tsquery(tree)))
            counted = select(func.count()).select_from(Utterance).where(condition)
        return session.execute(counted).scalar_one()


def _ranked_calls(
    session: Session, dialect: str, tree: Node, filters: SearchFilters, wanted: int, bound: int
) -> _Ranked:
    of_call = _filter_clauses(filters, dialect, started=Thread.started_at)
    of_utterance = [] if filters.speaker_role is None else [Speaker.role == filters.speaker_role]
    # The threads the filters pick, read from the threads' own indexes (their recordings and
    # transcripts only for those whose rows are read); None when no filter picks them, only rows.
    picked = select(Thread.id).where(*of_call) if of_call else None
    rows_per_call = _ratio(Utterance.id, Thread.id)
    if dialect == "postgresql":

        def utterances_in(thread: Any) -> Select[Any]:
            transcript = (
                select(Utterance.id)
                .select_from(Recording)
                .join(Transcript, Transcript.recording_id == Recording.id)
                .where(Recording.thread_id == thread)
            )
            if not of_utterance:
                return transcript.join(Utterance, Utterance.transcript_id == Transcript.id)
            # Through the speakers of the call, as on SQLite: the index of each one's utterances reads
            # only theirs, where the transcript's read every row and looked up its speaker (10M
            # utterances, one agent's customer lines, 2,964 calls walked: the walk 100 -> 75 ms, the
            # search's median 113-117 -> 94-108 ms).
            voices = transcript.join(Speaker, Speaker.transcript_id == Transcript.id).where(*of_utterance)
            return voices.join(Utterance, Utterance.speaker_id == Speaker.id)

        return _ranked_tsquery(
            session,
            Utterance.id,
            Utterance.text,
            "utterances.text_tsv",
            _join_call(Utterance.__table__),
            tree,
            of_call + of_utterance,
            wanted,
            bound,
            None if picked is None else _Parents(picked, utterances_in, rows_per_call),
        )

    def utterances_of(threads: Any) -> Select[Any]:
        calls = select(Transcript.id).join(Recording).where(Recording.thread_id.in_(threads))
        if filters.speaker_role is None:
            return select(Utterance.id).where(Utterance.transcript_id.in_(calls))
        # Through the speakers of those calls (an utterance's speaker is one of its own transcript's):
        # both steps read an index alone, where joining each utterance to its speaker read its row
        # (8k utterances: 4 ms against 9 ms).
        voices = select(Speaker.id).where(Speaker.transcript_id.in_(calls), *of_utterance)
        return select(Utterance.id).where(Utterance.speaker_id.in_(voices))

    narrowing = _Narrowing(
        joined=_join_call(_UTTERANCES_FTS.join(Utterance, Utterance.id == _UTTERANCES_FTS.c.rowid)),
        content=_join_call(Utterance.__table__),
        key=Utterance.id,
        clauses=of_call + of_utterance,
        parents=picked,
        rows_of=utterances_of,
        rows_per_parent=rows_per_call,
    )
    return _ranked_fts5(session, _UTTERANCES_FTS, compile_fts5(tree), narrowing, wanted, bound)


def _ranked_messages(
    session: Session, dialect: str, tree: Node, filters: SearchFilters, wanted: int, bound: int
) -> _Ranked:
    of_thread = _filter_clauses(filters, dialect)
    if filters.channel is not None:
        of_thread.append(Thread.channel == filters.channel)
    of_message = _date_clauses(filters, started=Message.sent_at)
    if filters.speaker_role is not None:
        of_message.append(Message.direction == _DIRECTION_OF_ROLE[filters.speaker_role])
    picked = select(Thread.id).where(*of_thread) if of_thread else None
    rows_per_thread = _ratio(Message.id, Thread.id)
    if dialect == "postgresql":

        def messages_in(thread: Any) -> Select[Any]:
            return select(Message.id).where(Message.thread_id == thread, *of_message)

        return _ranked_tsquery(
            session,
            Message.id,
            Message.body,
            "messages.body_tsv",
            _join_message(Message.__table__),
            tree,
            of_thread + of_message,
            wanted,
            bound,
            None if picked is None else _Parents(picked, messages_in, rows_per_thread),
        )
    narrowing = _Narrowing(
        joined=_join_message(_MESSAGES_FTS.join(Message, Message.id == _MESSAGES_FTS.c.rowid)),
        content=_join_message(Message.__table__),
        key=Message.id,
        clauses=of_thread + of_message,
        parents=picked,
        rows_of=lambda threads: select(Message.id).where(Message.thread_id.in_(threads), *of_message),
        rows_per_parent=rows_per_thread,
    )
    return _ranked_fts5(session, _MESSAGES_FTS, compile_fts5(tree), narrowing, wanted, bound)


@dataclass(frozen=True)
class _Narrowing:
    """What the filters allow of one FTS5 index, in the shapes a query can take: each match joined to
    its call or thread and filtered (``joined`` and ``clauses``), or the best matches ranked first
    and only those looked up in their calls or threads (``content`` by ``key``), or the rows the
    filters allow (``rows_of``) gathered from the calls or threads they pick (``parents``; None when
    no filter picks them, only rows: a speaker role alone allows half of everything).
    ``rows_per_parent`` estimates how many rows a call or thread holds."""

    joined: Join
    content: Join  # the rows of the index with their calls or threads, without the index
    key: InstrumentedAttribute[int]  # content's key: the index's rowid
    clauses: list[ColumnElement[bool]]
    parents: Select[Any] | None
    rows_of: Callable[[Any], Select[Any]]  # a query of parents' ids -> the rows allowed
    rows_per_parent: Select[Any]


def _ranked_fts5(
    session: Session, fts: TableClause, expression: str, narrowing: _Narrowing, wanted: int, bound: int
) -> _Ranked:
    """The best ``wanted`` rows of one FTS5 index by bm25, with their snippets. Without filters the
    index is ranked alone; with filters, among the rows ``_allowed_rows`` gathers when that is
    cheaper (all of them: a filter that allows few), else among the newest ``bound`` that pass when
    the filters pass most matches (``_newest_allowed_floor``), ranked first (``_best_allowed``) or
    else each match joined to its call or thread."""
    index: ColumnElement[Any] = literal_column(fts.name)
    score = func.bm25(index)
    matching = index.match(expression)
    snippet = func.snippet(index, -1, HIGHLIGHT_START, HIGHLIGHT_END, SNIPPET_ELLIPSIS, SNIPPET_WORDS)
    source: FromClause = fts
    clauses: list[ColumnElement[bool]] = []
    floor = None
    if not narrowing.clauses:
        floor = _newest_floor(session, select(fts.c.rowid).where(matching), fts.c.rowid, bound)
    elif (allowed := _allowed_rows(session, fts, matching, narrowing)) is not None:
        clauses = [allowed]
    else:
        matches = select(fts.c.rowid).where(matching)
        floor = _newest_allowed_floor(
            session,
            _newest_sample(session, matches, fts.c.rowid),
            select(narrowing.key).select_from(narrowing.content).where(*narrowing.clauses),
            lambda reach: _newest_floor(session, matches, fts.c.rowid, reach),
            bound,
        )
        newest = matching if floor is None else and_(matching, fts.c.rowid > floor)
        scores = _best_allowed(session, fts, newest, score, narrowing, wanted)
        if scores is not None:
            # Snippets for those rows only, read in one pass over the matches between the first and the
            # last of them ("+ 0": not rowid lookups, which walk the matches up to each rowid again:
            # 51 of the newest of 37k matches cost 8.5 ms so, 0.5 ms in one pass).
            first, last = min(scores, default=0), max(scores, default=0)
            only = select(fts.c.rowid, snippet).where(
                matching, fts.c.rowid.between(first, last), (fts.c.rowid + 0).in_(_values(scores))
            )
            return _Ranked(only, capped=floor is not None, scores=scores)
        source, clauses = narrowing.joined, narrowing.clauses
    if floor is not None:
        clauses = [*clauses, fts.c.rowid > floor]
    query = (
        select(
            fts.c.rowid,
            snippet,  # -1: from the column that matched (a message's body or the text it quotes)
            score,
        )
        .select_from(source)
        .where(matching, *clauses)
        .order_by(score, fts.c.rowid)
        .limit(wanted)
    )
    return _Ranked(query, capped=floor is not None)


def _best_allowed(
    session: Session,
    fts: TableClause,
    matching: ColumnElement[Any],
    score: ColumnElement[Any],
    narrowing: _Narrowing,
    wanted: int,
) -> dict[int, float] | None:
    """The best ``wanted`` rows that the filters allow, by rowid with their scores, found by ranking
    every match alone and looking only the best ``RANKED_PER_WANTED_ROW * wanted`` up in their
    calls or threads; None when fewer than ``wanted`` of those are allowed while more matches are
    left. For a broad filter: bm25 costs less per match (0.8 µs) than joining a match to its call
    (1.2 µs, 1M utterances), and both would score every allowed match."""
    batch = wanted * RANKED_PER_WANTED_ROW
    best = session.execute(
        select(fts.c.rowid, score).where(matching).order_by(score, fts.c.rowid).limit(batch)
    ).all()
    ids = [rowid for rowid, _ in best]
    checked = select(narrowing.key).select_from(narrowing.content)
    allowed = (
        set(session.scalars(checked.where(narrowing.key.in_(_values(ids)), *narrowing.clauses)))
        if ids
        else set()
    )
    kept = {rowid: value for rowid, value in best if rowid in allowed}
    if len(kept) < wanted and len(best) == batch:
        return None
    return dict(list(kept.items())[:wanted])


def _ratio(rows: InstrumentedAttribute[int], parents: InstrumentedAttribute[int]) -> Select[Any]:
    """The highest row id over the highest parent id: rows per parent, read from two indexes."""
    highest_row = select(func.max(rows)).scalar_subquery()
    return select(highest_row * 1.0 / select(func.max(parents)).scalar_subquery())


def _allowed_rows(
    session: Session, fts: TableClause, matching: ColumnElement[Any], narrowing: _Narrowing
) -> ColumnElement[bool] | None:
    """The condition that keeps a match to the rows the filters allow, when gathering those rows is
    cheaper than joining every match to its call or thread; else None. Gathering costs per allowed
    row, joining per match, about ``GATHERED_ROWS_PER_JOINED_MATCH`` times as much. When the
    filters pick few calls or threads, their ids are read once and handed on, and the matches are
    only counted as far as the choice needs; else every match is counted (walking the index: a few
    ms for 150k) and the calls or threads no further than that bound."""
    if narrowing.parents is None:
        return None
    rows_per_parent = session.scalar(narrowing.rows_per_parent) or 0
    if rows_per_parent <= 0:
        return None  # nothing to rank, either way
    # The matches are counted no further than makes every call or thread handed on worth gathering,
    # and those no further than the matches make worth it.
    enough = 1
    if GATHERED_ROWS_PER_JOINED_MATCH > 0:
        enough += math.ceil((_PARENT_IDS_HANDED_ON + 1) * rows_per_parent / GATHERED_ROWS_PER_JOINED_MATCH)
    matches = _count_matches(session, fts, matching, enough)
    bound = _parents_worth_gathering(matches, rows_per_parent)
    # Counted and collected in one statement, as the JSON array they are handed on in: the ids never
    # become Python objects (a broad filter picks thousands, and reading 5,001 ids cost 3.5-5 ms
    # against 0.5 ms so, 1M utterances, a date range), and a filter on the customer's name or
    # identities is worked out once.
    picked_ids = narrowing.parents.limit(min(bound, _PARENT_IDS_HANDED_ON) + 1).subquery()
    id_column = next(iter(picked_ids.c))
    picked, ids = session.execute(select(func.count(), func.json_group_array(id_column))).one()
    if not matches or picked > bound:
        return None
    if picked <= _PARENT_IDS_HANDED_ON:
        allowed = narrowing.rows_of(_json_values(ids))
    else:
        matches = _count_matches(session, fts, matching)
        if matches * GATHERED_ROWS_PER_RANKED_MATCH < picked * rows_per_parent:
            return None  # ranking every match costs less than gathering the rows of the calls read
        bound = _parents_worth_gathering(matches, rows_per_parent)
        if _count(session, narrowing.parents.limit(bound + 1)) > bound:
            return None
        allowed = narrowing.rows_of(narrowing.parents)
    # "+ 0": not a plain rowid, so SQLite walks the index and probes the allowed rows (gathered once)
    # instead of asking FTS5 for each of them by rowid: 100x slower, and bm25 then counts every
    # match of the query again for each row it scores.
    return (fts.c.rowid + 0).in_(allowed)


def _values(ids: Collection[int]) -> Select[Any]:
    """Ids handed to a query as one JSON array: any number of them, where SQLite limits how many
    bound parameters a statement may have."""
    return _json_values(json.dumps(list(ids)))


def _json_values(array: str) -> Select[Any]:
    handed_on = func.json_each(array).table_valued("value")
    return select(handed_on.c.value)


def _parents_worth_gathering(matches: int, rows_per_parent: float) -> int:
    """At most this many calls or threads are cheaper to gather than ``matches`` are to join."""
    return int(matches * GATHERED_ROWS_PER_JOINED_MATCH / rows_per_parent)


def _count_matches(
    session: Session, fts: TableClause, matching: ColumnElement[Any], up_to: int | None = None
) -> int:
    """How many rows of ``fts`` match, counting no further than ``up_to``."""
    matches = select(fts.c.rowid).where(matching)
    return _count(session, matches if up_to is None else matches.limit(up_to))


def _count(session: Session, rows: Select[Any]) -> int:
    return session.scalar(select(func.count()).select_from(rows.subquery())) or 0


# PostgreSQL compiles a statement to machine code (JIT) when the planner's estimate of its cost passes
# ``jit_above_cost`` (100,000 by default), as it does for a filtered search's walk and joins on a large
# table: 38 ms of compiling (EXPLAIN ANALYZE) for a page that should take tens of ms. Off for a
# search's own transaction only (SET LOCAL). 10M utterances, each statement planned afresh as a new
# search is (no prepared statements), median / p95 ms of two runs each: one agent's customer lines
# 164/235, 159/236 -> 125/159, 117/144; a word since February 91/105, 87/94 -> 75/96, 74/79; the
# others within their noise.
_WITHOUT_JIT = text("SET LOCAL jit = off")
# PostgreSQL's text search configuration of migration 0013 (simple + unaccent), and ts_headline's
# options for snippets marked and sized as FTS5's snippet() marks them.
# A constant in the SQL text, not a bound parameter cast to regconfig: that cast is only STABLE, so
# to_tsquery(...) could not be folded into a constant and ran again for every matching row (4x slower).
_TS_CONFIG = literal_column("'earshot'::regconfig", REGCONFIG)
_HEADLINE = (
    f"StartSel={HIGHLIGHT_START}, StopSel={HIGHLIGHT_END}, MaxWords={SNIPPET_WORDS}, "
    f"MinWords={SNIPPET_WORDS // 2}, ShortWord=0, MaxFragments=1, FragmentDelimiter={SNIPPET_ELLIPSIS}"
)


@dataclass(frozen=True)
class _Parents:
    """PostgreSQL: the calls or threads that the filters pick (``ids``: a query of their ids), the
    rows of one of them that the filters allow (``rows_in``: a call's or thread's id -> a query of
    those rows' keys), and how many rows a call or thread holds (``rows_per_parent``)."""

    ids: Select[Any]
    rows_in: Callable[[Any], Select[Any]]
    rows_per_parent: Select[Any]


def _worth_walking(session: Session, sample: list[int], parents: _Parents) -> bool:
    """Whether the calls or threads the filters pick hold enough matches to walk them for the newest:
    at least ``MATCHES_PER_WALKED_PARENT`` each, by the share of rows that match among the newest
    (the ``_newest_sample``'s keys span those rows). A full sample only: fewer are all the matches."""
    if len(sample) < FILTER_SAMPLE:
        return False
    share = len(sample) / (sample[0] - sample[-1] + 1)
    return share * float(session.scalar(parents.rows_per_parent) or 0) >= MATCHES_PER_WALKED_PARENT


def _ranked_tsquery(
    session: Session,
    key: InstrumentedAttribute[int],
    text: InstrumentedAttribute[str],
    vector_column: str,
    content: Join,
    tree: Node,
    clauses: list[ColumnElement[bool]],
    wanted: int,
    bound: int,
    parents: _Parents | None = None,
) -> _Ranked:
    """The best ``wanted`` rows of one table by ts_rank over its stored ``tsvector`` (GIN-indexed,
    migration 0013), with ts_headline snippets. The score is negated so that, as with bm25, lower is
    better."""
    vector: ColumnElement[Any] = literal_column(vector_column)
    query = func.to_tsquery(_TS_CONFIG, compile_tsquery(tree))
    matches = select(key).where(vector.bool_op("@@")(query))
    if clauses:
        # As on SQLite, a filter that passes most of the newest matches is ranked among about the
        # newest ``bound`` that pass; one that picks calls or threads, among the matches of the newest
        # of those; the others rank every match that passes.
        def floor_of(reach: int) -> int | None:
            return _newest_tsquery_floor(session, key, vector, query, tree, reach)

        sample = _newest_sample(session, matches, key)
        checked = select(key).select_from(content).where(*clauses)
        floor = _newest_allowed_floor(session, sample, checked, floor_of, bound)
        if floor is None and parents is not None and _worth_walking(session, sample, parents):
            in_parents = _newest_parents_walked(key, vector, query, parents, bound)
            return _ranked_walk(key, text, query, in_parents, wanted, bound)
        return _ranked_above(key, text, vector, query, content, clauses, floor, wanted)

    def through_the_index() -> _Ranked:
        floor = _newest_floor(session, matches, key, bound)
        return _ranked_above(key, text, vector, query, key.class_, [], floor, wanted)

    window = _walk_window(session, key, vector, tree, bound)
    if window is None:
        return through_the_index()
    # The window's matches ranked as they are walked, in one statement: the floor first and then the
    # rows above it walked again cost twice the walk (10M utterances, "cancel my contract": 68 ms
    # against 38). A walk that falls short of the bound is ranked through the index after all.
    walked: Select[Any] = (
        select(
            window.c.key,
            window.c.vector,
            func.row_number().over(order_by=window.c.key.desc()).label("place"),
        )
        .where(window.c.vector.bool_op("@@")(query))
        .order_by(window.c.key.desc())
        .limit(bound + 1)
    )
    return _ranked_walk(key, text, query, walked, wanted, bound, short=through_the_index)


def _ranked_above(
    key: InstrumentedAttribute[int],
    text: InstrumentedAttribute[str],
    vector: ColumnElement[Any],
    query: ColumnElement[Any],
    source: Any,
    clauses: list[ColumnElement[bool]],
    floor: int | None,
    wanted: int,
) -> _Ranked:
    """The best ``wanted`` matches of ``source`` that pass ``clauses``, above ``floor`` when there is
    one (read through the GIN index, or as the planner chooses)."""
    if floor is not None:
        clauses = [*clauses, key > floor]
    score = (-func.ts_rank(vector, query)).label("score")
    best = (
        select(key.label("key"), score)
        .select_from(source)
        .where(vector.bool_op("@@")(query), *clauses)
        .order_by(score, key)
        .limit(wanted)
        .subquery()
    )
    return _Ranked(_with_headlines(best, key, text, query), capped=floor is not None)


def _newest_parents_walked(
    key: InstrumentedAttribute[int],
    vector: ColumnElement[Any],
    query: ColumnElement[Any],
    parents: _Parents,
    bound: int,
) -> Select[Any]:
    """The first ``bound + 1`` matches that the filters allow, walking the calls or threads they pick
    newest first (their primary key) and each one's matching rows newest first, for ``_ranked_walk``:
    a filter that picks thousands of calls costs what ``bound`` of their matches cost, not what all
    of them cost, and one that picks few is ranked whole, the walk ending with them. 10M utterances,
    "fee" in the calls of customers named "maria" since June (66k matches pass): median 690-830 ms
    ranking them all, 124-164 ms so, most of it picking the 20k calls and walking 1,400 of them."""
    picked = parents.ids.order_by(next(iter(parents.ids.selected_columns)).desc()).subquery("picked")
    # OFFSET 0 keeps each call's rows a subquery of its own (LATERAL: a nested loop, in the calls'
    # order); flattened, PostgreSQL hashed the calls and read the rows in their stored order.
    rows_in = (
        parents.rows_in(next(iter(picked.c)))
        .add_columns(vector.label("vector"))
        .where(vector.bool_op("@@")(query))
        .order_by(key.desc())
        .offset(0)
        .lateral("rows_in")
    )
    row_key, row_vector = list(rows_in.c)
    return (
        select(row_key.label("key"), row_vector.label("vector"), func.row_number().over().label("place"))
        .select_from(picked)
        .join(rows_in, true())
        .limit(bound + 1)
    )


def _ranked_walk(
    key: InstrumentedAttribute[int],
    text: InstrumentedAttribute[str],
    query: ColumnElement[Any],
    walked: Select[Any],
    wanted: int,
    bound: int,
    short: Callable[[], _Ranked] | None = None,
) -> _Ranked:
    """The best ``wanted`` of the first ``bound`` matches a walk finds (``walked``: their ``key``,
    ``vector`` and ``place`` in the walk, from 1, no more than ``bound + 1`` of them: one more tells
    that more were left out), with the walk's length for ``_Ranked.rows``; ``short`` ranks instead
    when the walk found no more than ``bound`` and may have stopped short of others."""
    found = walked.cte("walked")  # read twice, computed once
    score = (-func.ts_rank(found.c.vector, query)).label("score")
    best = (
        select(found.c.key, score)
        .where(found.c.place <= bound)
        .order_by(score, found.c.key)
        .limit(wanted)
        .subquery()
    )
    how_many = select(func.count()).select_from(found).scalar_subquery()
    ranked = _with_headlines(best, key, text, query).add_columns(how_many.label("walked"))
    return _Ranked(ranked, capped=False, walked_bound=bound, short_walk=short)


def _with_headlines(
    best: Any, key: InstrumentedAttribute[int], text: Any, query: ColumnElement[Any]
) -> Select[Any]:
    """The ranked rows (``key`` and ``score`` of ``best``) with their snippets, best first. The headline
    is made for the best rows only, once they are known: asked for beside the rank, PostgreSQL
    carried every match's text through the sort (7 times slower at 7k matches)."""
    snippet = func.ts_headline(_TS_CONFIG, text, query, _HEADLINE)
    return (
        select(best.c.key, snippet, best.c.score)
        .join_from(best, key.class_, key == best.c.key)
        .order_by(best.c.score, best.c.key)
    )


def _walk_window(
    session: Session, key: InstrumentedAttribute[int], vector: ColumnElement[Any], tree: Node, bound: int
) -> Subquery | None:
    """The newest ``WALKED_ROWS_PER_BOUND * bound`` rows of a table (``key``, ``vector``), down the
    primary key, when the words' frequencies say they may hold more than ``bound`` matches; else
    None. A subquery with its own LIMIT: the match is tested on the walked rows only."""
    if not _combines_words(tree):
        return None
    share = _share_at_most(tree, _word_shares(session, key.class_.__tablename__, vector.name))
    if share is None or share * WALKED_ROWS_PER_BOUND * bound <= bound:
        return None
    newest = select(key.label("key"), vector.label("vector")).order_by(key.desc())
    return newest.limit(WALKED_ROWS_PER_BOUND * bound).subquery()


def _newest_tsquery_floor(
    session: Session,
    key: InstrumentedAttribute[int],
    vector: ColumnElement[Any],
    query: ColumnElement[Any],
    tree: Node,
    bound: int,
) -> int | None:
    """``_newest_floor`` of a table's matches, walked down the primary key when ``_walk_window`` says
    so, else (or when the walk falls short) through the GIN index."""
    window = _walk_window(session, key, vector, tree, bound)
    if window is not None:
        in_window = select(window.c.key).where(window.c.vector.bool_op("@@")(query))
        floor = _newest_floor(session, in_window, window.c.key, bound)
        if floor is not None:
            return floor
    return _newest_floor(session, select(key).where(vector.bool_op("@@")(query)), key, bound)


@dataclass(frozen=True)
class _WordShares:
    """The share of a table's rows holding each of its most common words (pg_stats), and the share
    that no other word exceeds (the rarest of those listed)."""

    of_word: dict[str, float]
    others: float


def _word_shares(session: Session, table_name: str, vector_column: str) -> _WordShares | None:
    """What ANALYZE found of a tsvector column's words; None before it ran (a new or small table)."""
    row: Any = session.execute(
        select(literal_column("most_common_elems::text::text[]"), literal_column("most_common_elem_freqs"))
        .select_from(table("pg_stats"))
        .where(
            literal_column("schemaname") == func.current_schema(),
            literal_column("tablename") == table_name,
            literal_column("attname") == vector_column.rsplit(".", 1)[-1],
        )
    ).first()
    if row is None or not row[0] or not row[1]:
        return None
    words, shares = row
    of_word = dict(zip(words, shares, strict=False))  # the shares end with min, max and null share
    return _WordShares(of_word, min(of_word.values()))


def _combines_words(node: Node) -> bool:
    """Whether ``node`` asks for words together (a phrase, an AND, a NEAR), whose matches the planner
    underestimates. A word's or a prefix's it reads from the statistics, and its alternatives' sum.
    NEAR's phrases (one for each distance, in either order) cost as much per row walked as per match
    read through the index, but the walk is one pass where the index takes two, the floor and then
    the rows above it (1M utterances, NEAR(refund euros, 5): 115 ms through the index, 75-81 walked)."""
    match node:
        case Phrase() | And() | Near():
            return True
        case Or(items):
            return any(_combines_words(item) for item in items)
    return False


def _share_at_most(node: Node, shares: _WordShares | None) -> float | None:
    """At most this share of rows match ``node`` (each of its words: as stored, lower case without
    accents), or None when the statistics cannot say (none yet, a prefix, only a NOT)."""
    if shares is None:
        return None
    match node:
        case Term(text):
            return shares.of_word.get(_unaccented(text), shares.others)
        case Phrase(words, prefix):
            return _least([_share_at_most(Term(word), shares) for word in words[: -1 if prefix else None]])
        case Near(terms):
            return _least([_share_at_most(term, shares) for term in terms])
        case And(items):
            return _least([_share_at_most(item, shares) for item in items if not isinstance(item, Not)])
        case Or(items):
            each = [_share_at_most(item, shares) for item in items]
            return None if None in each else min(1.0, sum(share or 0.0 for share in each))
    return None  # a prefix, or a NOT alone


def _least(shares: list[float | None]) -> float | None:
    known = [share for share in shares if share is not None]
    return min(known) if known else None


def _unaccented(word: str) -> str:
    """A word as the index stores it (migration 0013: unaccent), for its statistics."""
    return "".join(char for char in unicodedata.normalize("NFKD", word) if not unicodedata.combining(char))


def _call_details(session: Session, utterance_ids: list[int]) -> dict[int, tuple[Any, ...]]:
    """SearchHit's fields up to the snippet, by utterance id."""
    if not utterance_ids:
        return {}
    rows = session.execute(
        select(
            Utterance.id,
            Thread.channel,
            Thread.id,
            Recording.id,
            Utterance.id,
            null(),
            Thread.customer_id,
            Customer.display_name,
            Agent.name,
            Thread.started_at,
            Speaker.label,
            Speaker.role,
            Utterance.start,
            Utterance.end,
        )
        .select_from(_join_call(Utterance.__table__))
        .where(Utterance.id.in_(utterance_ids))
    )
    return {row[0]: _hit_fields(row) for row in rows}


def _hit_fields(row: Any) -> tuple[Any, ...]:
    """A details row without its key, the time in UTC (SQLite hands back naive datetimes)."""
    return (*row[1:9], as_utc(row[9]), *row[10:])


def _message_details(session: Session, message_ids: list[int]) -> dict[int, tuple[Any, ...]]:
    """SearchHit's fields up to the snippet, by message id."""
    if not message_ids:
        return {}
    rows = session.execute(
        select(
            Message.id,
            Thread.channel,
            Thread.id,
            null(),
            null(),
            Message.id,
            Thread.customer_id,
            Customer.display_name,
            Agent.name,
            func.coalesce(Message.sent_at, Thread.started_at, type_=Message.sent_at.type),
            func.coalesce(Message.author, ""),
            case((Message.direction == "inbound", "customer"), else_="agent"),
            null(),
            null(),
        )
        .select_from(_join_message(Message.__table__))
        .where(Message.id.in_(message_ids))
    )
    return {row[0]: _hit_fields(row) for row in rows}


def _join_call(utterances: FromClause) -> Join:
    """The call around an utterance: its speaker, transcript, recording, thread, customer and agent."""
    return _join_people(
        utterances.join(Speaker.__table__, Speaker.id == Utterance.speaker_id)
        .join(Transcript.__table__, Transcript.id == Utterance.transcript_id)
        .join(Recording.__table__, Recording.id == Transcript.recording_id)
        .join(Thread.__table__, Thread.id == Recording.thread_id)
    )


def _join_message(messages: FromClause) -> Join:
    """The conversation around a message: its thread, customer and agent."""
    return _join_people(messages.join(Thread.__table__, Thread.id == Message.thread_id))


def _join_people(threads: FromClause) -> Join:
    """A thread's customer and agent (either may be unknown)."""
    return threads.outerjoin(Customer.__table__, Customer.id == Thread.customer_id).outerjoin(
        Agent.__table__, Agent.id == Thread.agent_id
    )


def _filter_clauses(filters: SearchFilters, dialect: str, started: Any = None) -> list[ColumnElement[bool]]:
    """The filters both kinds share: customer, agent, and the date range when ``started`` says what
    time it applies to."""
    clauses: list[ColumnElement[bool]] = []
    # As ids the threads' indexes serve, so a filter can pick its calls or threads without a join.
    if filters.customer is not None:
        clauses.append(Thread.customer_id.in_(matching_customers(dialect, filters.customer.strip())))
    if filters.agent is not None:
        named = select(Agent.id).where(Agent.name.icontains(filters.agent.strip(), autoescape=True))
        clauses.append(Thread.agent_id.in_(named))
    return clauses if started is None else clauses + _date_clauses(filters, started)


def _date_clauses(filters: SearchFilters, started: Any) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    if filters.date_from is not None:
        clauses.append(started >= _day_start(filters.date_from))
    if filters.date_to is not None:
        clauses.append(started < _day_start(filters.date_to + timedelta(days=1)))
    return clauses


def matching_customers(dialect: str, value: str) -> CompoundSelect[Any]:
    """The ids of the customers ``value`` names, as ``SearchFilters`` reads it: for a filter that
    looks conversations up by their customer (``threads.customer_id`` is indexed)."""
    # Every kind named, so that the unique (kind, value) index finds the value: by value alone,
    # every identity was read (20k customers: 0.6 ms; it grows with them).
    exact = select(Identity.customer_id).where(
        Identity.kind.in_(get_args(IdentityKind)), Identity.value.in_({value, value.lower()})
    )
    found = [customers_named(dialect, value), exact]
    digits = "".join(char for char in value if char.isdigit()).lstrip("0")
    if len(digits) >= _MIN_PHONE_DIGITS and not any(char.isalpha() for char in value):
        found.append(customers_with_identity_ending(dialect, "phone", digits))
    return union(*found)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)
