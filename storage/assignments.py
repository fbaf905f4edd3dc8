"""Assigning calls to coaches: a coach (or anyone who scores) gives a call, or several at once from
the call list, to a coach to review.
The call list shows the assignee and filters on "assigned to me", and "next call to review" offers a
coach the calls assigned to them first (``storage.call_list``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.access import ROLE_PERMISSIONS, Permission, Principal, require
from storage.audit import append_event
from storage.audit_subjects import Subject
from storage.db import Database, read_scope, session_scope
from storage.errors import InvalidValue, NotFound
from storage.models import CallAssignment, Recording, User

__all__ = ["Reviewer", "assign_call", "assign_calls", "call_assignee", "list_reviewers"]

# The roles a call can be given to: those who may score it.
_REVIEWER_ROLES = tuple(
    role for role, granted in ROLE_PERMISSIONS.items() if Permission.SCORE_CALLS in granted
)


@dataclass(frozen=True)
class Reviewer:
    user_id: int
    username: str


def list_reviewers(db: Database, who: Principal) -> list[Reviewer]:
    """The active accounts a call can be assigned to, by name: what the assignment picker offers."""
    require(who, Permission.SCORE_CALLS)
    with read_scope(db) as session:
        rows = session.execute(
            select(User.id, User.username)
            .where(User.active.is_(True), User.role.in_(_REVIEWER_ROLES))
            .order_by(User.username)
        )
        return [Reviewer(row.id, row.username) for row in rows]


def call_assignee(db: Database, who: Principal, recording_id: int) -> Reviewer | None:
    """Who call ``recording_id`` is assigned to, if anyone."""
    require(who, Permission.SCORE_CALLS)
    with read_scope(db) as session:
        row = session.execute(
            select(User.id, User.username)
            .join(CallAssignment, CallAssignment.coach_id == User.id)
            .where(CallAssignment.recording_id == recording_id)
        ).one_or_none()
        return Reviewer(row.id, row.username) if row is not None else None


def assign_call(db: Database, who: Principal, recording_id: int, coach_id: int | None) -> Reviewer | None:
    """Give call ``recording_id`` to the coach ``coach_id`` (None: to nobody), replacing whoever had
    it; audited as ``call_assigned`` with the coach before and after. Returns the new assignee."""
    return assign_calls(db, who, (recording_id,), coach_id)


def assign_calls(
    db: Database, who: Principal, recording_ids: Sequence[int], coach_id: int | None
) -> Reviewer | None:
    """Give every call of ``recording_ids`` to the coach ``coach_id`` (None: to nobody) in one step,
    as the call list's bulk assignment does: all of them or, when one is missing, none (the error
    names every missing call). Audited per call, as ``assign_call``. Returns the new assignee."""
    require(who, Permission.SCORE_CALLS)
    wanted = list(dict.fromkeys(recording_ids))  # each call once, in the order given
    if not wanted:
        raise InvalidValue("choose at least one call to assign")
    with session_scope(db) as session:
        found = set(session.scalars(select(Recording.id).where(Recording.id.in_(wanted))))
        missing = [recording_id for recording_id in wanted if recording_id not in found]
        if missing:
            raise NotFound("no call with id " + ", ".join(map(str, missing)))
        coach = None
        if coach_id is not None:
            user = session.get(User, coach_id)
            if user is None or not user.active or user.role not in _REVIEWER_ROLES:
                raise InvalidValue(f"user {coach_id} is no active account that may score calls")
            coach = Reviewer(user.id, user.username)
        for recording_id in wanted:
            _reassign(session, who, recording_id, coach)
        return coach


def _reassign(session: Session, who: Principal, recording_id: int, coach: Reviewer | None) -> None:
    """Replace call ``recording_id``'s assignee with ``coach``, and audit it with the one before."""
    current = session.get(CallAssignment, recording_id)
    before = None
    if current is not None:
        before = session.scalar(select(User.username).where(User.id == current.coach_id))
        session.delete(current)
        session.flush()  # the call's one row goes before its replacement comes
    if coach is not None:
        session.add(
            CallAssignment(recording_id=recording_id, coach_id=coach.user_id, assigned_by=who.user_id)
        )
    details = {"coach": coach.username if coach else None, "before": before}
    append_event(session, who, "call_assigned", Subject("recording", recording_id), details)
