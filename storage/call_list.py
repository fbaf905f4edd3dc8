"""The call list and the review queue: every call, filtered, sorted and paged for a coach to pick
what to score, and "the next call to review", a fair random sample per agent.

Both are reads of people's data (who called, who answered), so both check the role and are audited
(``calls_listed``) before anything is handed over. One statement per page, whatever the page size:
the filters and the default order rest on indexed columns (``threads.started_at``, ``threads.agent_id``,
``agents.team``, ``recordings.duration``, ``evaluations.recording_id``); ``bench/call_list.py`` times
them on 100k calls.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any, Literal, get_args

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from storage.access import Permission, Principal, require
from storage.audit import record_read
from storage.db import Database, read_scope
from storage.errors import InvalidValue
from storage.models import (
    Agent,
    CallAssignment,
    Customer,
    Evaluation,
    Recording,
    RedactedSpan,
    Thread,
    TrackerMatch,
    Transcript,
    User,
    as_utc,
)
from storage.search import matching_customers
from storage.services import first_identity

__all__ = [
    "CALL_SORTS",
    "DIRECTIONS",
    "MAX_PAGE_SIZE",
    "CallFilters",
    "CallListPage",
    "CallRow",
    "CallSort",
    "Direction",
    "list_call_page",
    "next_call_to_review",
]

Direction = Literal["inbound", "outbound"]
DIRECTIONS: tuple[Direction, ...] = get_args(Direction)
CallSort = Literal["started", "duration", "agent"]
CALL_SORTS: tuple[CallSort, ...] = get_args(CallSort)
MAX_PAGE_SIZE = 200


@dataclass(frozen=True)
class CallFilters:
    """Which calls to list. ``customer`` matches as search's customer filter does: inside the
    customer's name, any identity exactly, or a phone number by its last digits. ``started_from``
    and ``started_before`` are moments (timezone-aware: the page turns the days a coach picks into
    the organisation's midnights), the first inclusive, the second not. Durations are in seconds,
    both inclusive. ``unscored``: only calls no coach has started an evaluation of. ``team``: calls
    of the agents now in that team (``storage.teams``). ``disputed``: only calls with an evaluation
    whose dispute is open (``storage.disputes``). ``flagged``: only calls flagged for review, whose
    redacted audio still gave away part of what was redacted. ``assigned_to``: only the calls
    assigned to this user (``storage.assignments``). ``tracker_id``: only the calls that tracker
    tagged (``storage.trackers``)."""

    agent_id: int | None = None
    team: str | None = None
    customer: str | None = None
    started_from: datetime | None = None
    started_before: datetime | None = None
    direction: Direction | None = None
    min_duration: float | None = None
    max_duration: float | None = None
    unscored: bool = False
    disputed: bool = False
    flagged: bool = False
    assigned_to: int | None = None
    tracker_id: int | None = None  # only the calls this tracker tagged (``storage.trackers``)

    def __post_init__(self) -> None:
        if self.customer is not None and not self.customer.strip():
            raise InvalidValue("customer filter is empty")
        if self.team is not None and not self.team.strip():
            raise InvalidValue("team filter is empty")
        for name in ("started_from", "started_before"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise InvalidValue(f"{name} needs a time zone")
        if self.started_from and self.started_before and self.started_from >= self.started_before:
            raise InvalidValue("date range is empty: it ends before it starts")
        if self.direction is not None and self.direction not in DIRECTIONS:
            raise InvalidValue(f"direction {self.direction!r} is not one of {', '.join(DIRECTIONS)}")
        for name in ("min_duration", "max_duration"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise InvalidValue(f"{name.replace('_', ' ')} is negative")
        if (
            self.min_duration is not None
            and self.max_duration is not None
            and self.min_duration > self.max_duration
        ):
            raise InvalidValue("duration range is backwards: the minimum is above the maximum")

    def audit_details(self) -> dict[str, Any]:
        return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in asdict(self).items() if v}


@dataclass(frozen=True)
class CallRow:
    id: int  # the recording's
    started_at: datetime | None  # UTC
    duration: float
    direction: str | None
    agent_id: int | None
    agent: str | None
    customer_id: int | None
    customer: str | None  # the customer's name, else their first identity
    evaluations: int  # started (drafts too): 0 is an unscored call
    disputed: bool = False  # an evaluation of it is disputed and the dispute open
    flagged: bool = False  # flagged for review: its redaction failed verification
    assignee: str | None = None  # the coach it is assigned to, by username


@dataclass(frozen=True)
class CallListPage:
    calls: tuple[CallRow, ...]
    offset: int
    limit: int
    has_more: bool


def list_call_page(
    db: Database,
    who: Principal,
    filters: CallFilters = CallFilters(),
    *,
    sort: CallSort = "started",
    descending: bool = True,
    limit: int = 25,
    offset: int = 0,
) -> CallListPage:
    """One page of calls; audited as ``calls_listed`` with the filters and how many were shown.
    Ties in the order fall to the newer call first (descending) or the older (ascending), so pages
    never overlap."""
    require(who, Permission.VIEW_ALL_CALLS)
    if sort not in CALL_SORTS:
        raise InvalidValue(f"sort {sort!r} is not one of {', '.join(CALL_SORTS)}")
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidValue(f"a page holds 1 to {MAX_PAGE_SIZE} calls, not {limit}")
    if offset < 0:
        raise InvalidValue("offset is negative")
    # Each order ends on the id its index holds, so an indexed walk gives the page without a sort.
    orders: dict[CallSort, list[Any]] = {
        "started": [Thread.started_at, Thread.id],
        "duration": [Recording.duration, Recording.id],
        "agent": [Agent.name, Thread.id],
    }
    keys = orders[sort]
    order = [key.desc().nulls_last() if descending else key.asc().nulls_last() for key in keys]
    ids_query = _matching(filters, db.engine.dialect.name)
    if sort == "agent":
        ids_query = ids_query.outerjoin(Agent, Agent.id == Thread.agent_id)
    with read_scope(db) as session:
        # The page's ids first, from the filtered and ordered columns alone; then what the rows show.
        ids = list(session.scalars(ids_query.order_by(*order).limit(limit + 1).offset(offset)))
        found = {row.id: row for row in _rows(session, _details().where(Recording.id.in_(ids)))}
        rows = [found[i] for i in ids if i in found]
    page = CallListPage(tuple(rows[:limit]), offset, limit, has_more=len(rows) > limit)
    details = {
        "filters": filters.audit_details(),
        "sort": sort,
        "descending": descending,
        "offset": offset,
        "calls": len(page.calls),
    }
    record_read(db, who, "calls_listed", None, details)
    return page


def next_call_to_review(
    db: Database, who: Principal, filters: CallFilters = CallFilters(), rng: random.Random | None = None
) -> CallRow | None:
    """An unscored call for a coach to score. The calls assigned to this coach that match
    ``filters`` come first, the earliest call first: someone chose them for this coach. Otherwise one
    is drawn so that reviews spread fairly, leaving out calls assigned to other coaches: among the
    agents with an unscored call that matches ``filters``, the one with the fewest scored calls
    (submitted evaluations, drafts not counted) started in the filters' period goes first (a tie is
    drawn at random), then one of that agent's unscored calls at random. Calls that name no agent
    are not drawn. None when no call is left to review. Audited as ``calls_listed``."""
    require(who, Permission.SCORE_CALLS)
    rng = rng or random.Random()
    unscored = replace(filters, unscored=True)
    with read_scope(db) as session:
        picked = session.scalar(
            _matching(replace(unscored, assigned_to=who.user_id), db.engine.dialect.name)
            .order_by(Thread.started_at.asc().nulls_last(), Recording.id)
            .limit(1)
        )
        assigned = picked is not None
        if picked is None:
            picked = _fair_draw(session, filters, rng)
        rows = _rows(session, _details().where(Recording.id == picked)) if picked is not None else []
        chosen = rows[0] if rows else None  # none when a call was scored meanwhile
    details = {
        "filters": filters.audit_details(),
        "next_to_review": chosen.id if chosen else None,
        "assigned": assigned,
    }
    record_read(db, who, "calls_listed", None, details)
    return chosen


def _fair_draw(session: Session, filters: CallFilters, rng: random.Random) -> int | None:
    """The fair draw of ``next_call_to_review`` among the unscored calls nobody is assigned."""
    # NOT IN reads the (few) assigned calls once rather than looking each call up.
    assigned = select(CallAssignment.recording_id)
    unassigned = _matching(replace(filters, unscored=True), session.get_bind().dialect.name).where(
        Recording.id.not_in(assigned)
    )
    # Grouped by ``agent_id + 0`` and agentless calls dropped here, not in SQL: either on the
    # column would lead SQLite to walk the agent index, every call, rather than the period's.
    agent = (Thread.agent_id + 0).label("agent")
    counts = session.execute(unassigned.with_only_columns(agent, func.count()).group_by(agent))
    waiting = {row.agent: row[1] for row in counts if row.agent is not None}
    if not waiting:
        return None
    in_period = [*_period_clauses(filters)]
    scored_agent = (Thread.agent_id + 0).label("agent")
    scored = {
        row.agent: row[1]
        for row in session.execute(
            select(scored_agent, func.count(func.distinct(Evaluation.recording_id)))
            .join(Recording, Recording.id == Evaluation.recording_id)
            .join(Thread, Thread.id == Recording.thread_id)
            .where(Evaluation.status != "draft", *in_period)
            .group_by(scored_agent)
        )
    }
    fewest = min(scored.get(agent, 0) for agent in waiting)
    agent_id = rng.choice(sorted(a for a in waiting if scored.get(a, 0) == fewest))
    pick = rng.randrange(waiting[agent_id])
    return session.scalar(
        unassigned.where(Thread.agent_id == agent_id).order_by(Thread.id).offset(pick).limit(1)
    )


def _matching(filters: CallFilters, dialect: str) -> Select[Any]:
    """The ids of the calls that match ``filters``. Every recording is a call's: no channel test
    (one would lead SQLite to the (channel, ...) index instead of the one the order walks)."""
    query = select(Recording.id).join(Thread, Thread.id == Recording.thread_id)
    return query.where(*_filter_clauses(filters, dialect))


def _details() -> Select[Any]:
    """What a row of the list shows, for the calls a ``where`` names."""
    evaluations = (
        select(func.count(Evaluation.id))
        .where(Evaluation.recording_id == Recording.id)
        .correlate(Recording)
        .scalar_subquery()
    )
    disputed = _open_dispute().correlate(Recording).exists()
    flagged = _failed_verification().correlate(Recording).exists()
    return (
        select(
            Recording.id,
            Thread.started_at,
            Recording.duration,
            Thread.direction,
            Thread.agent_id,
            Agent.name.label("agent"),
            Thread.customer_id,
            func.coalesce(Customer.display_name, first_identity()).label("customer"),
            evaluations.label("evaluations"),
            disputed.label("disputed"),
            flagged.label("flagged"),
            User.username.label("assignee"),
        )
        .join(Thread, Thread.id == Recording.thread_id)
        .outerjoin(Customer, Customer.id == Thread.customer_id)
        .outerjoin(Agent, Agent.id == Thread.agent_id)
        .outerjoin(CallAssignment, CallAssignment.recording_id == Recording.id)
        .outerjoin(User, User.id == CallAssignment.coach_id)
    )


def _filter_clauses(filters: CallFilters, dialect: str) -> list[ColumnElement[bool]]:
    clauses = _period_clauses(filters)
    if filters.agent_id is not None:
        clauses.append(Thread.agent_id == filters.agent_id)
    if filters.team is not None:
        # On ``agent_id + 0``: a team is many agents' calls, and SQLite, led to the agent index,
        # would sort them all for a page; walking the order's index finds a page's worth soon.
        members = select(Agent.id).where(Agent.team == filters.team.strip())
        clauses.append((Thread.agent_id + 0).in_(members))
    if filters.customer is not None:
        clauses.append(Thread.customer_id.in_(matching_customers(dialect, filters.customer.strip())))
    if filters.direction is not None:
        clauses.append(Thread.direction == filters.direction)
    if filters.min_duration is not None:
        clauses.append(Recording.duration >= filters.min_duration)
    if filters.max_duration is not None:
        clauses.append(Recording.duration <= filters.max_duration)
    if filters.unscored:
        clauses.append(~select(Evaluation.id).where(Evaluation.recording_id == Recording.id).exists())
    if filters.disputed:
        clauses.append(_open_dispute().exists())
    # The flagged and one coach's calls are few: IN reads that small set once, where EXISTS would
    # look it up again for every call the order's index walks past.
    if filters.flagged:
        flagged = (
            select(Transcript.recording_id)
            .join(RedactedSpan, RedactedSpan.transcript_id == Transcript.id)
            .where(RedactedSpan.verified.is_(False))
        )
        clauses.append(Recording.id.in_(flagged))
    if filters.tracker_id is not None:
        tagged = select(TrackerMatch.thread_id).where(TrackerMatch.tracker_id == filters.tracker_id)
        clauses.append(Thread.id.in_(tagged))
    if filters.assigned_to is not None:
        assigned = select(CallAssignment.recording_id).where(CallAssignment.coach_id == filters.assigned_to)
        clauses.append(Recording.id.in_(assigned))
    return clauses


def _failed_verification() -> Select[Any]:
    """A span of the call's redaction still heard in its redacted audio: ``ServedAudio.flagged``."""
    return (
        select(RedactedSpan.id)
        .join(Transcript, Transcript.id == RedactedSpan.transcript_id)
        .where(Transcript.recording_id == Recording.id, RedactedSpan.verified.is_(False))
    )


def _open_dispute() -> Select[Any]:
    return select(Evaluation.id).where(
        Evaluation.recording_id == Recording.id, Evaluation.status == "disputed"
    )


def _period_clauses(filters: CallFilters) -> list[ColumnElement[bool]]:
    # Compared in UTC: SQLite stores naive UTC, and PostgreSQL compares aware moments as such.
    clauses: list[ColumnElement[bool]] = []
    if filters.started_from is not None:
        clauses.append(Thread.started_at >= as_utc(filters.started_from))
    if filters.started_before is not None:
        clauses.append(Thread.started_at < as_utc(filters.started_before))
    return clauses


def _rows(session: Session, query: Select[Any]) -> list[CallRow]:
    return [
        CallRow(
            id=row.id,
            started_at=as_utc(row.started_at),
            duration=row.duration,
            direction=row.direction,
            agent_id=row.agent_id,
            agent=row.agent,
            customer_id=row.customer_id,
            customer=row.customer,
            evaluations=row.evaluations,
            disputed=bool(row.disputed),
            flagged=bool(row.flagged),
            assignee=row.assignee,
        )
        for row in session.execute(query)
    ]
