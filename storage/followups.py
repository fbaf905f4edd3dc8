"""Follow-ups: the next step after a call, chat or e-mail thread (what, for whom, due when, done).

For whom: an account (``User``), or a PBX agent who has no account yet; "my follow-ups" are those
for the signed-in user and for the agent their account is linked to. Roles: whoever may read
customer histories may add a follow-up to a conversation and read a conversation's or a customer's
follow-ups (the next person to pick up needs them); a person's list is their own unless they may
view agent overviews (coaches and above); a follow-up is done by whom it is for, by who added it,
or by a coach. The text is a person's data: every read is audited, every change is audited by ids,
never by its text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, false, or_, select
from sqlalchemy.orm import Session, aliased

from storage.access import Permission, Principal, allows, require, require_unless_command_line
from storage.audit import COMMAND_LINE, acting_name, append_event, record_read
from storage.audit_subjects import Subject
from storage.customers import require_customer
from storage.db import Database, read_scope, session_scope
from storage.errors import InvalidValue, NotFound, PermissionDenied
from storage.models import Agent, Customer, FollowUp, Recording, Thread, User, as_utc, utc_now

__all__ = [
    "Assignee",
    "FollowUpView",
    "FollowUpStatus",
    "FollowUpLimits",
    "add_followup",
    "assignee_of",
    "complete_followup",
    "conversation_followups",
    "conversation_of_call",
    "customer_followups",
    "list_assignees",
    "list_followups",
    "parse_due",
    "resolve_assignee",
]

FollowUpStatus = Literal["open", "done", "all"]


@dataclass(frozen=True)
class FollowUpLimits:
    what_max_chars: int = 2000  # a next step, not a letter: the conversation holds the rest


LIMITS = FollowUpLimits()


@dataclass(frozen=True)
class Assignee:
    """Whom a follow-up is for, or whose follow-ups to list: an account and/or the PBX agent it is
    linked to. As a filter, a follow-up matches either."""

    name: str  # the username, or the agent's name
    user_id: int | None = None
    agent_id: int | None = None


@dataclass(frozen=True)
class FollowUpView:
    id: int
    thread_id: int
    channel: str  # call | chat | email | ...
    customer_id: int | None
    customer: str | None  # the customer's name
    what: str
    assignee: str  # the username, or the agent's name
    for_user_id: int | None
    for_agent_id: int | None
    due_at: datetime  # UTC
    created_at: datetime  # UTC
    created_by: str  # a username, or "(command line)"
    done_at: datetime | None  # UTC
    done_by: str | None

    def overdue(self, now: datetime) -> bool:
        return self.done_at is None and self.due_at < now


def parse_due(text: str, zone: ZoneInfo) -> datetime:
    """A due moment as a user writes it, in the organisation's zone unless it names an offset:
    "2026-12-09" (the end of that day), "2026-12-09 14:30", or ISO 8601 with an offset. UTC out."""
    text = text.strip()
    try:
        if len(text) == 10:
            return datetime.combine(datetime.fromisoformat(text).date(), time(23, 59), zone).astimezone(UTC)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidValue(
            f"due {text!r} is no date: write 2026-12-09 (the end of that day) or 2026-12-09 14:30"
        ) from None
    return (moment.replace(tzinfo=zone) if moment.tzinfo is None else moment).astimezone(UTC)


def resolve_assignee(db: Database, name: str) -> Assignee:
    """An account by username, else a PBX agent by name (an agent's account stands for the agent)."""
    wanted = name.strip()
    with read_scope(db) as session:
        user = session.scalar(select(User).where(User.username == wanted.lower()))
        if user is not None:
            if not user.active:
                raise InvalidValue(f"user {user.username} is disabled")
            return Assignee(user.username, user.id, user.agent_id)
        agent = session.scalar(select(Agent).where(Agent.name == wanted))
        if agent is not None:
            account = session.scalar(select(User).where(User.agent_id == agent.id, User.active.is_(True)))
            if account is not None:
                return Assignee(account.username, account.id, agent.id)
            return Assignee(agent.name, None, agent.id)
    raise NotFound(f"no user or agent {wanted!r}")


def assignee_of(who: Principal) -> Assignee:
    """The signed-in user as an assignee: their "my follow-ups"."""
    return Assignee(who.username, who.user_id, who.agent_id)


def list_assignees(db: Database, who: Principal) -> list[Assignee]:
    """The active accounts a follow-up can be given to, by name: what the app's picker offers."""
    require(who, Permission.LOOKUP_CUSTOMERS)
    with read_scope(db) as session:
        rows = session.execute(
            select(User.id, User.username, User.agent_id).where(User.active.is_(True)).order_by(User.username)
        )
        return [Assignee(row.username, row.id, row.agent_id) for row in rows]


def conversation_of_call(db: Database, recording_id: int) -> int:
    """The conversation (thread) a call is: follow-ups hang on conversations, the call page knows calls."""
    with read_scope(db) as session:
        thread_id = session.scalar(select(Recording.thread_id).where(Recording.id == recording_id))
    if thread_id is None:
        raise NotFound(f"no call with id {recording_id}")
    return thread_id


def add_followup(
    db: Database,
    who: Principal | None,
    thread_id: int,
    what: str,
    due_at: datetime,
    assignee: Assignee | None = None,
) -> FollowUpView:
    """Add a follow-up to conversation ``thread_id``. For whom: ``assignee``; else the signed-in
    user; on the command line (``who`` None), the conversation's agent. Audited by ids, not text."""
    require_unless_command_line(who, Permission.LOOKUP_CUSTOMERS)
    what = what.strip()
    if not what:
        raise InvalidValue("a follow-up needs a text: what is to be done")
    if len(what) > LIMITS.what_max_chars:
        raise InvalidValue(f"a follow-up's text is {len(what)} characters, more than {LIMITS.what_max_chars}")
    if due_at.tzinfo is None:
        raise InvalidValue("a due time needs its time zone")
    with session_scope(db) as session:
        thread = session.get(Thread, thread_id)
        if thread is None:
            raise NotFound(f"no conversation with id {thread_id}")
        for_whom = assignee or (assignee_of(who) if who is not None else _agent_of(session, thread))
        row = FollowUp(
            thread_id=thread_id,
            what=what,
            # An agent with an account gets it as the account's: it is on their list either way.
            for_user_id=for_whom.user_id,
            for_agent_id=for_whom.agent_id if for_whom.user_id is None else None,
            due_at=due_at.astimezone(UTC),
            created_by=who.user_id if who is not None else None,
        )
        _check_assignee(session, row)
        session.add(row)
        session.flush()
        details = {"follow_up": row.id, "for": for_whom.name, "due": row.due_at.isoformat()}
        append_event(
            session, who, "follow_up_added", Subject("thread", thread_id), details, username=COMMAND_LINE
        )
        return _views(session, _query().where(FollowUp.id == row.id))[0]


def complete_followup(db: Database, who: Principal | None, followup_id: int) -> FollowUpView:
    """Mark a follow-up done, now, by ``who``: whom it is for, who added it, or a coach and above."""
    require_unless_command_line(who, Permission.LOOKUP_CUSTOMERS)
    with session_scope(db) as session:
        row = session.get(FollowUp, followup_id)
        if row is None:
            raise NotFound(f"no follow-up with id {followup_id}")
        if who is not None and not _may_complete(who, row):
            raise PermissionDenied(
                f"{who.username} ({who.role}) may not complete follow-up {followup_id}: it is someone "
                "else's; whom it is for, who added it, or a coach may"
            )
        if row.done_at is not None:
            raise InvalidValue(
                f"follow-up {followup_id} is already done: by {row.done_by}, "
                f"{as_utc(row.done_at):%Y-%m-%d %H:%M} UTC"
            )
        row.done_at = utc_now()
        row.done_by = acting_name(who)
        session.flush()
        append_event(
            session,
            who,
            "follow_up_done",
            Subject("thread", row.thread_id),
            {"follow_up": row.id},
            username=COMMAND_LINE,
        )
        return _views(session, _query().where(FollowUp.id == row.id))[0]


def list_followups(
    db: Database,
    who: Principal | None,
    assignee: Assignee | None,
    *,
    status: FollowUpStatus = "open",
    overdue_only: bool = False,
    now: datetime | None = None,
) -> list[FollowUpView]:
    """A person's follow-ups (``assignee`` None: everyone's), overdue first, then by due time, done
    ones last (the most recently done first). Someone else's need the agent-overview grant."""
    require_unless_command_line(who, Permission.LOOKUP_CUSTOMERS)
    if who is not None and (assignee is None or not _is_own(who, assignee)):
        if not allows(who, Permission.VIEW_AGENT_OVERVIEWS):
            raise PermissionDenied(
                f"{who.username} ({who.role}) may see only their own follow-ups; "
                "someone else's need the role coach, compliance or admin"
            )
    now = now or utc_now()
    query = _query()
    if assignee is not None:
        query = query.where(_for(assignee))
    if status == "open" or overdue_only:
        query = query.where(FollowUp.done_at.is_(None))
    elif status == "done":
        query = query.where(FollowUp.done_at.is_not(None))
    if overdue_only:
        query = query.where(FollowUp.due_at < now)
    with read_scope(db) as session:
        found = _ordered(_views(session, query))
    details = {
        "for": assignee.name if assignee else "everyone",
        "status": status,
        "overdue_only": overdue_only,
        "follow_ups": [f.id for f in found],
    }
    record_read(db, who, "follow_ups_listed", _whose(assignee), details)
    return found


def customer_followups(db: Database, who: Principal | None, customer_id: int) -> list[FollowUpView]:
    """Every follow-up of a customer's conversations, open overdue first, for their history."""
    require_unless_command_line(who, Permission.LOOKUP_CUSTOMERS)
    with read_scope(db) as session:
        require_customer(session, customer_id)
        found = _ordered(_views(session, _query().where(Thread.customer_id == customer_id)))
    record_read(
        db, who, "follow_ups_listed", Subject("customer", customer_id), {"follow_ups": [f.id for f in found]}
    )
    return found


def conversation_followups(db: Database, who: Principal | None, thread_id: int) -> list[FollowUpView]:
    """One conversation's follow-ups, open overdue first: what the call page and a thread show."""
    require_unless_command_line(who, Permission.LOOKUP_CUSTOMERS)
    with read_scope(db) as session:
        if session.get(Thread, thread_id) is None:
            raise NotFound(f"no conversation with id {thread_id}")
        found = _ordered(_views(session, _query().where(FollowUp.thread_id == thread_id)))
    record_read(
        db, who, "follow_ups_listed", Subject("thread", thread_id), {"follow_ups": [f.id for f in found]}
    )
    return found


def _agent_of(session: Session, thread: Thread) -> Assignee:
    if thread.agent_id is None:
        raise InvalidValue(f"conversation {thread.id} has no agent: say whom the follow-up is for")
    agent = session.get(Agent, thread.agent_id)
    account = session.scalar(select(User).where(User.agent_id == thread.agent_id, User.active.is_(True)))
    if account is not None:
        return Assignee(account.username, account.id, thread.agent_id)
    return Assignee(agent.name if agent else str(thread.agent_id), None, thread.agent_id)


def _check_assignee(session: Session, row: FollowUp) -> None:
    if row.for_user_id is not None:
        user = session.get(User, row.for_user_id)
        if user is None or not user.active:
            raise InvalidValue(f"user {row.for_user_id} is no active account")
    elif row.for_agent_id is None or session.get(Agent, row.for_agent_id) is None:
        raise InvalidValue("a follow-up is for a user or an agent; none was given")


def _is_own(who: Principal, assignee: Assignee) -> bool:
    return assignee.user_id == who.user_id or (
        assignee.user_id is None and assignee.agent_id is not None and assignee.agent_id == who.agent_id
    )


def _may_complete(who: Principal, row: FollowUp) -> bool:
    mine = row.for_user_id == who.user_id or (
        row.for_agent_id is not None and row.for_agent_id == who.agent_id
    )
    return mine or row.created_by == who.user_id or allows(who, Permission.VIEW_AGENT_OVERVIEWS)


def _whose(assignee: Assignee | None) -> Subject | None:
    """What a person's list is audited as being about: their agent, where they have one (an account
    is named in the details, as users are not a subject of the log)."""
    return Subject("agent", assignee.agent_id) if assignee and assignee.agent_id is not None else None


def _for(assignee: Assignee) -> ColumnElement[bool]:
    return or_(
        FollowUp.for_user_id == assignee.user_id if assignee.user_id is not None else false(),
        FollowUp.for_agent_id == assignee.agent_id if assignee.agent_id is not None else false(),
    )


_ForUser = aliased(User)
_ByUser = aliased(User)


def _query() -> Select:
    return (
        select(
            FollowUp,
            Thread.channel,
            Thread.customer_id,
            Customer.display_name,
            _ForUser.username.label("for_username"),
            Agent.name.label("for_agent"),
            _ByUser.username.label("created_by_name"),
        )
        .join(Thread, Thread.id == FollowUp.thread_id)
        .outerjoin(Customer, Customer.id == Thread.customer_id)
        .outerjoin(_ForUser, _ForUser.id == FollowUp.for_user_id)
        .outerjoin(Agent, Agent.id == FollowUp.for_agent_id)
        .outerjoin(_ByUser, _ByUser.id == FollowUp.created_by)
    )


def _views(session: Session, query: Select) -> list[FollowUpView]:
    return [
        FollowUpView(
            id=row.FollowUp.id,
            thread_id=row.FollowUp.thread_id,
            channel=row.channel,
            customer_id=row.customer_id,
            customer=row.display_name,
            what=row.FollowUp.what,
            assignee=row.for_username or row.for_agent or "?",
            for_user_id=row.FollowUp.for_user_id,
            for_agent_id=row.FollowUp.for_agent_id,
            due_at=as_utc(row.FollowUp.due_at),
            created_at=as_utc(row.FollowUp.created_at),
            created_by=row.created_by_name or COMMAND_LINE,
            done_at=as_utc(row.FollowUp.done_at),
            done_by=row.FollowUp.done_by,
        )
        for row in session.execute(query)
    ]


def _ordered(found: Sequence[FollowUpView]) -> list[FollowUpView]:
    """Open ones first by due time (so the overdue lead), then done ones, the latest done first."""
    open_ = sorted((f for f in found if f.done_at is None), key=lambda f: (f.due_at, f.id))
    done = sorted(
        (f for f in found if f.done_at is not None), key=lambda f: (f.done_at or f.due_at, f.id), reverse=True
    )
    return open_ + done
