"""Legal holds: what must not be deleted, by any path, while a hold stands.

A hold covers one customer (every conversation of theirs, their identities and the customer record),
one call, or whatever a transcript search finds (optionally within a date range). Holds are
evaluated when something is about to be deleted (``storage.deletion`` asks ``covering_holds``), not
when they are placed: a customer's new calls and new items matching a query hold are covered too,
for as long as the hold stands. Everything derived from a held conversation (its transcript,
messages, audio, redacted copies) is held with it.

A hold stands until its ``until`` day has passed or it is released; releasing takes two compliance
users: one asks (``request_release``), a different one approves (``approve_release``), as
recorders used for evidence do. Every step is audited.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from storage.access import Permission, Principal, require, require_unless_command_line
from storage.audit import acting_name, append_event
from storage.db import Database, read_scope, session_scope
from storage.errors import InvalidValue, NotFound, PermissionDenied
from storage.models import Customer, LegalHold, Recording, Thread, User, as_utc, utc_now
from storage.query import parse_query
from storage.search import SearchFilters, threads_matching

__all__ = [
    "Coverage",
    "HoldKind",
    "HoldTarget",
    "HoldView",
    "approve_release",
    "covering_holds",
    "list_holds",
    "place_hold",
    "principal_for_command_line",
    "request_release",
]

HoldKind = Literal["customer", "call", "query"]


@dataclass(frozen=True)
class HoldTarget:
    """What a hold covers: exactly one of a customer, a call, or a search query (with optional days)."""

    kind: HoldKind
    customer_id: int | None = None
    recording_id: int | None = None
    query: str | None = None
    date_from: date | None = None
    date_to: date | None = None

    def __post_init__(self) -> None:
        given = {
            "customer": self.customer_id is not None,
            "call": self.recording_id is not None,
            "query": bool(self.query and self.query.strip()),
        }
        if [kind for kind, present in given.items() if present] != [self.kind]:
            raise InvalidValue("a hold covers exactly one of: a customer, a call, or a search query")
        if self.kind != "query" and (self.date_from or self.date_to):
            raise InvalidValue("a date range narrows only a hold by query")
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise InvalidValue(f"date range is backwards: from {self.date_from} is after to {self.date_to}")
        if self.query is not None:
            parse_query(self.query)  # a query the search cannot run would hold nothing: refuse it now


@dataclass(frozen=True)
class HoldView:
    id: int
    target: HoldTarget
    reason: str
    until: date | None
    placed_by: str
    placed_at: datetime
    release_requested_by: str | None
    released_by: str | None
    released_at: datetime | None
    active: bool  # neither released nor past its ``until`` day

    @property
    def covers(self) -> str:
        """What the hold covers, in words."""
        target = self.target
        if target.kind == "customer":
            return f"customer {target.customer_id}"
        if target.kind == "call":
            return f"call {target.recording_id}"
        days = ""
        if target.date_from or target.date_to:
            days = f" from {target.date_from or 'the start'} to {target.date_to or 'today'}"
        return f"search {target.query!r}{days}"


@dataclass(frozen=True)
class Coverage:
    """A standing hold and the conversations, among those about to be deleted, that it covers."""

    hold: HoldView
    thread_ids: frozenset[int]


def place_hold(
    db: Database,
    who: Principal | None,
    target: HoldTarget,
    reason: str,
    until: date | None = None,
    *,
    today: date | None = None,
) -> HoldView:
    """Place a hold; ``who`` None: the command line. Audited as ``hold_placed``."""
    require_unless_command_line(who, Permission.MANAGE_COMPLIANCE)
    reason = reason.strip()
    if not reason:
        raise InvalidValue("a legal hold needs a reason (the matter or case it is for)")
    today = today or utc_now().date()
    if until is not None and until < today:
        raise InvalidValue(f"a hold until {until} would already have ended (today is {today})")
    with session_scope(db) as session:
        if target.customer_id is not None and session.get(Customer, target.customer_id) is None:
            raise NotFound(f"no customer with id {target.customer_id}")
        if target.recording_id is not None and session.get(Recording, target.recording_id) is None:
            raise NotFound(f"no recording with id {target.recording_id}")
        row = LegalHold(
            kind=target.kind,
            customer_id=target.customer_id,
            recording_id=target.recording_id,
            query=target.query,
            date_from=target.date_from,
            date_to=target.date_to,
            reason=reason,
            until=until,
            placed_by=acting_name(who),
        )
        session.add(row)
        session.flush()
        view = _view(row, today)
        details = {"covers": view.covers, "reason": reason, "until": until.isoformat() if until else None}
        append_event(session, who, "hold_placed", f"hold:{row.id}", details, username=acting_name(who))
    return view


def list_holds(
    db: Database, who: Principal | None, *, include_ended: bool = False, today: date | None = None
) -> list[HoldView]:
    """The holds that stand (and, with ``include_ended``, those released or expired), newest first."""
    require_unless_command_line(who, Permission.VIEW_COMPLIANCE)
    today = today or utc_now().date()
    with read_scope(db) as session:
        query = select(LegalHold).order_by(LegalHold.id.desc())
        if not include_ended:
            query = query.where(_standing(today))
        return [_view(row, today) for row in session.scalars(query)]


def request_release(db: Database, who: Principal, hold_id: int, *, today: date | None = None) -> HoldView:
    """The first of the two steps that release a hold: a compliance user asks. Audited."""
    require(who, Permission.MANAGE_COMPLIANCE)
    today = today or utc_now().date()
    with session_scope(db) as session:
        row = _standing_hold(session, hold_id, today)
        if row.release_requested_by is not None:
            raise InvalidValue(
                f"the release of hold {hold_id} was already asked for by {row.release_requested_by}; "
                "a different compliance user approves it"
            )
        row.release_requested_by = who.username
        row.release_requested_at = utc_now()
        append_event(session, who, "hold_release_requested", f"hold:{hold_id}")
        session.flush()
        return _view(row, today)


def approve_release(db: Database, who: Principal, hold_id: int, *, today: date | None = None) -> HoldView:
    """The second step: a compliance user other than the one who asked approves, and the hold ends.
    Audited as ``hold_released``, naming both."""
    require(who, Permission.MANAGE_COMPLIANCE)
    today = today or utc_now().date()
    with session_scope(db) as session:
        row = _standing_hold(session, hold_id, today)
        if row.release_requested_by is None:
            raise InvalidValue(f"nobody has asked to release hold {hold_id}; a release needs a request first")
        if row.release_requested_by == who.username:
            raise PermissionDenied(
                f"{who.username} asked for the release of hold {hold_id}, so a different compliance user "
                "must approve it"
            )
        row.released_by = who.username
        row.released_at = utc_now()
        details = {"requested_by": row.release_requested_by}
        append_event(session, who, "hold_released", f"hold:{hold_id}", details)
        session.flush()
        return _view(row, today)


def covering_holds(
    session: Session, thread_ids: Collection[int], customer_ids: Collection[int], today: date
) -> list[Coverage]:
    """The standing holds over any of these conversations or customers, each with the conversations
    it covers; a customer hold covers the customer record and identities even without any."""
    wanted = set(thread_ids)
    coverage: list[Coverage] = []
    for row in session.scalars(select(LegalHold).where(_standing(today)).order_by(LegalHold.id)):
        held = _threads_held(session, row) & wanted
        if held or (row.kind == "customer" and row.customer_id in customer_ids):
            coverage.append(Coverage(_view(row, today), frozenset(held)))
    return coverage


def _threads_held(session: Session, row: LegalHold) -> set[int]:
    if row.kind == "customer":
        return set(session.scalars(select(Thread.id).where(Thread.customer_id == row.customer_id)))
    if row.kind == "call":
        return set(session.scalars(select(Recording.thread_id).where(Recording.id == row.recording_id)))
    filters = SearchFilters(date_from=row.date_from, date_to=row.date_to)
    return threads_matching(session, row.query or "", filters)


def principal_for_command_line(db: Database, username: str) -> Principal:
    """The compliance user a command names with ``--by``: releasing a hold takes two people, so the
    command line, which otherwise acts as whoever holds the database, must say who each one is."""
    with read_scope(db) as session:
        user = session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None or not user.active:
        raise NotFound(f"no active user {username!r}")
    if user.role != "compliance":
        raise PermissionDenied(f"{user.username} ({user.role}) is not a compliance user")
    return Principal(user.id, user.username, "compliance", user.agent_id)


def _standing(today: date) -> ColumnElement[bool]:
    return and_(LegalHold.released_at.is_(None), or_(LegalHold.until.is_(None), LegalHold.until >= today))


def _standing_hold(session: Session, hold_id: int, today: date) -> LegalHold:
    row = session.get(LegalHold, hold_id)
    if row is None:
        raise NotFound(f"no legal hold with id {hold_id}")
    if row.released_at is not None:
        raise InvalidValue(f"hold {hold_id} was already released by {row.released_by}")
    if row.until is not None and row.until < today:
        raise InvalidValue(f"hold {hold_id} ended on {row.until}; there is nothing to release")
    return row


def _view(row: LegalHold, today: date) -> HoldView:
    return HoldView(
        id=row.id,
        target=HoldTarget(
            kind=row.kind,  # type: ignore[arg-type]
            customer_id=row.customer_id,
            recording_id=row.recording_id,
            query=row.query,
            date_from=row.date_from,
            date_to=row.date_to,
        ),
        reason=row.reason,
        until=row.until,
        placed_by=row.placed_by,
        placed_at=as_utc(row.placed_at),
        release_requested_by=row.release_requested_by,
        released_by=row.released_by,
        released_at=as_utc(row.released_at),
        active=row.released_at is None and (row.until is None or row.until >= today),
    )
