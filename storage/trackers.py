"""Trackers: saved searches that tag every conversation they match, and tell their owner of new calls.

A tracker is a query in the search syntax (``storage.query``) with search filters, matched as search
matches it (``storage.search.threads_matching``). Added, it tags what it matches at once; the worker
then tries every tracker on each call it transcribes (``tag_transcribed_call``), so a call is tagged
as soon as its transcript is stored, and a re-transcribed call loses the tags it no longer earns.
A tracker that notifies leaves its owner an alert for each call it tags that way (not for the ones
found when it was added: those are its start, not news); the app shows the unseen ones until the
owner marks them seen. Nothing is sent out of Earshot: no mail, no chat.

Adding and removing one is a search across customers, so it takes ``SEARCH_ALL``; coaches list them
to filter the call list by one. Names are the organisation's: every call page shows them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.orm import Session

from storage.access import Permission, Principal, require, require_unless_command_line
from storage.audit import acting_name, append_event, record_read
from storage.audit_subjects import Subject
from storage.db import Database, read_scope, session_scope
from storage.errors import InvalidValue, NotFound
from storage.limits import SAVED_SEARCH_NAME_MAX_CHARS, check_length
from storage.models import Customer, Recording, Thread, TrackerMatch, User, as_utc, utc_now
from storage.models import Tracker as TrackerRow
from storage.query import parse_query
from storage.saved_searches import _filters_from_json, _filters_to_json
from storage.search import SearchFilters, threads_matching
from storage.services import first_identity

__all__ = [
    "Tracker",
    "TrackerAlert",
    "TrackerTag",
    "add_tracker",
    "call_tags",
    "list_trackers",
    "mark_alerts_seen",
    "remove_tracker",
    "tag_transcribed_call",
    "unseen_alerts",
]


@dataclass(frozen=True)
class Tracker:
    id: int
    name: str
    query: str
    filters: SearchFilters
    owner: str | None  # username; None: nobody is told
    notify: bool
    created_at: datetime  # UTC
    conversations: int  # tagged now


@dataclass(frozen=True)
class TrackerTag:
    tracker_id: int
    name: str
    matched_at: datetime  # UTC


@dataclass(frozen=True)
class TrackerAlert:
    tracker_id: int
    tracker: str
    recording_id: int
    customer: str | None
    started_at: datetime | None  # UTC
    matched_at: datetime  # UTC


def add_tracker(
    db: Database,
    who: Principal | None,
    name: str,
    query: str,
    filters: SearchFilters | None = None,
    *,
    notify: bool = False,
    owner: str | None = None,
) -> Tracker:
    """Add a tracker and tag what it matches now. Its owner is ``who``, or on the command line
    (``who`` None) the user named ``owner``; a tracker that notifies needs one."""
    require_unless_command_line(who, Permission.SEARCH_ALL)
    name = name.strip()
    if not name:
        raise InvalidValue("a tracker needs a name")
    check_length("a tracker's name", name, SAVED_SEARCH_NAME_MAX_CHARS)
    query = query.strip()
    filters = filters or SearchFilters()
    parse_query(query)  # raises QueryError with the parser's message
    with session_scope(db) as session:
        owner_id = who.user_id if who is not None else _user_id(session, owner)
        if notify and owner_id is None:
            raise InvalidValue("a tracker that notifies needs an owner to tell (--owner)")
        if session.scalar(select(TrackerRow.id).where(TrackerRow.name == name)) is not None:
            raise InvalidValue(f"a tracker named {name!r} exists already")
        row = TrackerRow(
            name=name, query=query, filters=_filters_to_json(filters), owner_id=owner_id, notify=notify
        )
        session.add(row)
        session.flush()
        matched = threads_matching(session, query, filters)
        session.add_all(TrackerMatch(tracker_id=row.id, thread_id=t, notify=False) for t in matched)
        append_event(
            session,
            who,
            "tracker_added",
            f"tracker:{row.id}",
            {"name": name, "query": query, "conversations": len(matched), "notify": notify},
            username=acting_name(who),
        )
        session.flush()
        return _tracker(session, row)


def list_trackers(db: Database, who: Principal | None) -> list[Tracker]:
    """Every tracker by name, with how many conversations it tags."""
    require_unless_command_line(who, Permission.VIEW_ALL_CALLS)
    with read_scope(db) as session:
        return [
            _tracker(session, row) for row in session.scalars(select(TrackerRow).order_by(TrackerRow.name))
        ]


def remove_tracker(db: Database, who: Principal | None, name: str) -> None:
    """Remove a tracker, its tags and alerts with it."""
    require_unless_command_line(who, Permission.SEARCH_ALL)
    with session_scope(db) as session:
        row = session.scalar(select(TrackerRow).where(TrackerRow.name == name.strip()))
        if row is None:
            raise NotFound(f"no tracker named {name.strip()!r}")
        append_event(
            session,
            who,
            "tracker_removed",
            f"tracker:{row.id}",
            {"name": row.name},
            username=acting_name(who),
        )
        session.execute(delete(TrackerMatch).where(TrackerMatch.tracker_id == row.id))
        session.delete(row)


def call_tags(db: Database, who: Principal | None, recording_id: int) -> list[TrackerTag]:
    """The trackers that tag a call, by name; audited as ``tracker_tags_viewed``."""
    require_unless_command_line(who, Permission.REPLAY_CALLS)
    with read_scope(db) as session:
        thread_id = session.scalar(select(Recording.thread_id).where(Recording.id == recording_id))
        if thread_id is None:
            raise NotFound(f"no call {recording_id}")
        rows = session.execute(
            select(TrackerRow.id, TrackerRow.name, TrackerMatch.matched_at)
            .join(TrackerMatch, TrackerMatch.tracker_id == TrackerRow.id)
            .where(TrackerMatch.thread_id == thread_id)
            .order_by(TrackerRow.name)
        ).all()
    tags = [TrackerTag(row.id, row.name, as_utc(row.matched_at)) for row in rows]
    record_read(
        db,
        who,
        "tracker_tags_viewed",
        Subject("recording", recording_id),
        {"trackers": [t.tracker_id for t in tags]},
    )
    return tags


def tag_transcribed_call(db: Database, recording_id: int) -> list[str]:
    """Try every tracker on a call whose transcript was just stored: tag it where one matches (an
    alert for the owner of a tracker that notifies), untag it where one no longer does. The worker
    calls this; the names of the trackers that tag it now come back."""
    with session_scope(db) as session:
        thread_id = session.scalar(select(Recording.thread_id).where(Recording.id == recording_id))
        if thread_id is None:
            raise NotFound(f"no call {recording_id}")
        had = set(session.scalars(select(TrackerMatch.tracker_id).where(TrackerMatch.thread_id == thread_id)))
        tagging: list[str] = []
        for tracker in session.scalars(select(TrackerRow).order_by(TrackerRow.name)):
            filters = _filters_from_json(tracker.filters)
            if thread_id in threads_matching(session, tracker.query, filters, within=(thread_id,)):
                tagging.append(tracker.name)
                if tracker.id not in had:
                    alert = tracker.notify and tracker.owner_id is not None
                    session.add(TrackerMatch(tracker_id=tracker.id, thread_id=thread_id, notify=alert))
            elif tracker.id in had:
                session.execute(
                    delete(TrackerMatch).where(
                        TrackerMatch.tracker_id == tracker.id, TrackerMatch.thread_id == thread_id
                    )
                )
        return tagging


def unseen_alerts(db: Database, who: Principal) -> list[TrackerAlert]:
    """The calls ``who``'s notifying trackers tagged that ``who`` has not marked seen, newest first;
    audited as ``tracker_alerts_viewed`` (they name customers)."""
    require(who, Permission.REPLAY_CALLS)
    customer = func.coalesce(Customer.display_name, first_identity()).label("customer")
    query = (
        select(
            TrackerRow.id,
            TrackerRow.name,
            Recording.id.label("recording_id"),
            customer,
            Thread.started_at,
            TrackerMatch.matched_at,
        )
        .join(TrackerMatch, TrackerMatch.tracker_id == TrackerRow.id)
        .join(Thread, Thread.id == TrackerMatch.thread_id)
        .join(Recording, Recording.thread_id == Thread.id)
        .outerjoin(Customer, Customer.id == Thread.customer_id)
        .where(TrackerRow.owner_id == who.user_id, TrackerMatch.notify, TrackerMatch.seen_at.is_(None))
        .order_by(TrackerMatch.matched_at.desc(), Recording.id.desc())
    )
    with read_scope(db) as session:
        alerts = [
            TrackerAlert(
                row.id,
                row.name,
                row.recording_id,
                row.customer,
                as_utc(row.started_at),
                as_utc(row.matched_at),
            )
            for row in session.execute(query)
        ]
    if alerts:
        record_read(db, who, "tracker_alerts_viewed", None, {"calls": [a.recording_id for a in alerts]})
    return alerts


def mark_alerts_seen(db: Database, who: Principal, alerts: list[TrackerAlert]) -> int:
    """Mark these alerts of ``who`` seen; how many were still unseen."""
    require(who, Permission.REPLAY_CALLS)
    marked = 0
    with session_scope(db) as session:
        owned = set(session.scalars(select(TrackerRow.id).where(TrackerRow.owner_id == who.user_id)))
        for alert in alerts:
            if alert.tracker_id not in owned:
                continue  # someone else's: never theirs to dismiss
            thread_id = (
                select(Recording.thread_id).where(Recording.id == alert.recording_id).scalar_subquery()
            )
            result: CursorResult[Any] = session.execute(  # type: ignore[assignment]  # an UPDATE's result
                update(TrackerMatch)
                .where(
                    TrackerMatch.tracker_id == alert.tracker_id,
                    TrackerMatch.thread_id == thread_id,
                    TrackerMatch.seen_at.is_(None),
                )
                .values(seen_at=utc_now())
                .execution_options(synchronize_session=False)
            )
            marked += result.rowcount
    return marked


def _user_id(session: Session, username: str | None) -> int | None:
    if username is None:
        return None
    user_id = session.scalar(select(User.id).where(User.username == username.strip().lower(), User.active))
    if user_id is None:
        raise NotFound(f"no active user {username!r}")
    return user_id


def _tracker(session: Session, row: TrackerRow) -> Tracker:
    owner = session.scalar(select(User.username).where(User.id == row.owner_id)) if row.owner_id else None
    count = session.scalar(
        select(func.count()).select_from(TrackerMatch).where(TrackerMatch.tracker_id == row.id)
    )
    return Tracker(
        id=row.id,
        name=row.name,
        query=row.query,
        filters=_filters_from_json(row.filters),
        owner=owner,
        notify=row.notify,
        created_at=as_utc(row.created_at),
        conversations=count or 0,
    )
