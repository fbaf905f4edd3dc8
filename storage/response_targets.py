"""Response-time targets: is every customer who waits for us answered within the working time the
organisation promises? Two waits are counted:

- an e-mail: from an inbound message (the first after our last reply) to the thread's next outbound
  message; the target is ``email_reply_s`` of working time;
- a missed call (no answer, busy, abandoned: the CDR's disposition, ``storage.missed_calls``): from
  the call to the next call with the same customer that reached someone (an outbound call, or an
  inbound one that was answered); the target is ``callback_s`` of working time.

Each wait is met (answered in time), breached (answered late, or still waiting past its deadline),
or still waiting: at risk when less than ``at_risk_share`` of its target is left, else on track.
Working time comes from ``storage.business_hours``; "now" is an argument, so a report is repeatable.
The clock on a waiting contact is working time: left before its deadline, or overdue by.

Who sees what: an agent their own contacts; a coach linked to an agent in a team that team's plus
the contacts nobody has taken yet (a missed call nobody called back has no agent); others all.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from recorder.asterisk import MISSED_OUTCOMES
from storage.access import Permission, Principal, require_unless_command_line
from storage.agent_links import linked_agent
from storage.audit import record_read
from storage.business_hours import BusinessCalendar
from storage.db import Database, read_scope
from storage.errors import InvalidValue
from storage.models import Agent, Customer, Message, Thread, as_utc

__all__ = [
    "STATUSES",
    "GroupCounts",
    "ResponseTargets",
    "TargetItem",
    "TargetReport",
    "Wait",
    "classify",
    "latest_wait",
    "reply_waits",
    "response_report",
]

Kind = Literal["email_reply", "callback"]
Status = Literal["breached", "at_risk", "on_track", "met"]
STATUSES: tuple[Status, ...] = ("breached", "at_risk", "on_track", "met")  # most urgent first
_MAX_DAYS = 366


@dataclass(frozen=True)
class ResponseTargets:
    """Per channel, the working time a customer may wait (seconds); declared in the settings."""

    email_reply_s: float = 6 * 3600.0
    callback_s: float = 3600.0
    at_risk_share: float = 0.25

    def target_s(self, kind: Kind) -> float:
        return self.email_reply_s if kind == "email_reply" else self.callback_s


@dataclass(frozen=True)
class Wait:
    """A customer waiting from ``since`` until ``answered_at`` (None: still waiting)."""

    since: datetime  # UTC
    answered_at: datetime | None  # UTC


@dataclass(frozen=True)
class Judgement:
    status: Status
    deadline: datetime  # UTC
    # Working seconds left before the deadline (at the answer, or now while waiting); negative: by
    # how much working time the deadline was missed.
    left_s: float


@dataclass(frozen=True)
class TargetItem:
    kind: Kind
    thread_id: int  # the e-mail thread, or the missed call
    answer_thread_id: int | None  # the callback; for an e-mail the thread itself
    customer_id: int | None
    customer: str | None  # the customer's name as stored (outside text: show it as text)
    agent: str | None
    team: str | None
    subject: str | None
    since: datetime
    answered_at: datetime | None
    status: Status
    deadline: datetime
    left_s: float

    @property
    def waiting(self) -> bool:
        return self.answered_at is None

    @property
    def clock(self) -> str:
        """The working-time clock as a person reads it: "2 h 05 min left", "overdue by 40 min"."""
        span = _duration(abs(self.left_s))
        if self.waiting:
            return f"{span} left" if self.left_s > 0 else f"overdue by {span}"
        return f"{span} to spare" if self.left_s >= 0 else f"{span} late"


@dataclass(frozen=True)
class GroupCounts:
    name: str | None  # the agent or team; None: nobody yet (an unanswered missed call) / no team
    counts: tuple[int, int, int, int]  # per STATUSES

    def count(self, status: Status) -> int:
        return self.counts[STATUSES.index(status)]


@dataclass(frozen=True)
class TargetReport:
    now: datetime
    start: datetime  # the period in which the waits began, UTC
    end: datetime
    items: tuple[TargetItem, ...]  # most urgent first: breached waiting, at risk, on track, answered

    def with_status(self, status: Status) -> list[TargetItem]:
        return [item for item in self.items if item.status == status]

    def by_agent(self) -> list[GroupCounts]:
        return _grouped(self.items, lambda item: item.agent)

    def by_team(self) -> list[GroupCounts]:
        return _grouped(self.items, lambda item: item.team)


def reply_waits(messages: Iterable[tuple[str, datetime | None]]) -> list[Wait]:
    """The waits in one thread's messages ((direction, sent at), in time order): each starts at an
    inbound message no reply has followed yet and ends at the next outbound one. A customer's
    second e-mail before our reply is part of the same wait. Messages with no time are left out."""
    waits: list[Wait] = []
    since: datetime | None = None
    for direction, sent_at in messages:
        if sent_at is None:
            continue
        if direction == "inbound" and since is None:
            since = sent_at
        elif direction == "outbound" and since is not None:
            waits.append(Wait(since, sent_at))
            since = None
    if since is not None:
        waits.append(Wait(since, None))
    return waits


def classify(
    wait: Wait, target_s: float, at_risk_share: float, calendar: BusinessCalendar, now: datetime
) -> Judgement:
    """Where ``wait`` stands against a target of ``target_s`` working seconds, at ``now``."""
    deadline = calendar.add_working(wait.since, target_s)
    if wait.answered_at is not None:
        used = calendar.working_seconds(wait.since, wait.answered_at)
        status: Status = "met" if wait.answered_at <= deadline else "breached"
        return Judgement(status, deadline, target_s - used)
    if now >= deadline:
        return Judgement("breached", deadline, -calendar.working_seconds(deadline, now))
    left = calendar.working_seconds(now, deadline)
    return Judgement("at_risk" if left < at_risk_share * target_s else "on_track", deadline, left)


def response_report(
    db: Database,
    who: Principal | None,
    calendar: BusinessCalendar,
    targets: ResponseTargets,
    *,
    start: datetime,
    end: datetime,
    now: datetime | None = None,
    agent: str | None = None,
    team: str | None = None,
) -> TargetReport:
    """Every wait that began from ``start`` (inclusive) to ``end`` (not), judged against ``targets``
    at ``now`` (default: this moment), for ``agent`` or ``team`` (or everyone the reader may see).
    ``who`` None: the command line. Audited as ``response_targets_viewed`` with the filters and the
    counts per status, never the contacts."""
    require_unless_command_line(who, Permission.LOOKUP_CUSTOMERS)
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidValue("a period's start and end need a time zone")
    if not start < end <= start + timedelta(days=_MAX_DAYS):
        raise InvalidValue(f"a period runs forwards and covers at most {_MAX_DAYS} days")
    if team is not None and not team.strip():
        raise InvalidValue("team filter is empty")
    period = _Period(as_utc(start), as_utc(end))
    now = as_utc(now) if now is not None else datetime.now(UTC)
    with read_scope(db) as session:
        scope = _Scope.of(session, who, agent, team)
        items = [
            *_email_items(session, period, scope, calendar, targets, now),
            *_callback_items(session, period, scope, calendar, targets, now),
        ]
    items.sort(key=_urgency)
    counts = Counter(item.status for item in items)
    details: dict[str, Any] = {"from": period.start.isoformat(), "to": period.end.isoformat()}
    details.update({"agent": agent, "team": team}, **{status: counts[status] for status in STATUSES})
    record_read(db, who, "response_targets_viewed", None, details)
    return TargetReport(now=now, start=period.start, end=period.end, items=tuple(items))


def latest_wait(db: Database, who: Principal | None) -> datetime | None:
    """When the newest inbound e-mail or missed call came: where a page's default period ends, so an
    old or quiet set of contacts does not show an empty report. Reads no one's contacts."""
    require_unless_command_line(who, Permission.LOOKUP_CUSTOMERS)
    with read_scope(db) as session:
        mail = session.scalar(
            select(func.max(Message.sent_at))
            .join(Thread, Thread.id == Message.thread_id)
            .where(Thread.channel == "email", Message.direction == "inbound")
        )
        call = session.scalar(
            select(func.max(Thread.started_at)).where(
                Thread.channel == "call", Thread.disposition.in_(MISSED_OUTCOMES)
            )
        )
    return max((as_utc(m) for m in (mail, call) if m is not None), default=None)


@dataclass(frozen=True)
class _Period:
    start: datetime  # UTC
    end: datetime

    def holds(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


@dataclass(frozen=True)
class _Scope:
    """Whose contacts a report holds: agent ids (None: any), and whether unassigned ones count."""

    agent_ids: frozenset[int] | None
    unassigned: bool

    @classmethod
    def of(cls, session: Session, who: Principal | None, agent: str | None, team: str | None) -> _Scope:
        allowed = cls._allowed(session, who)
        if agent is not None:
            found = linked_agent(session, agent)
            if found is None:
                raise InvalidValue("name the agent")
            wanted = cls(frozenset({found.id}), unassigned=False)
        elif team is not None:
            ids = session.scalars(select(Agent.id).where(Agent.team == team.strip()))
            wanted = cls(frozenset(ids), unassigned=False)
        else:
            return allowed
        if allowed.agent_ids is None:
            return wanted
        return cls(allowed.agent_ids & (wanted.agent_ids or frozenset()), unassigned=False)

    @classmethod
    def _allowed(cls, session: Session, who: Principal | None) -> _Scope:
        if who is None or who.role in ("admin", "compliance"):
            return cls(None, unassigned=True)
        if who.role == "agent":
            return cls(frozenset({who.agent_id} if who.agent_id is not None else ()), unassigned=False)
        own_team = None
        if who.agent_id is not None:
            own_team = session.scalar(select(Agent.team).where(Agent.id == who.agent_id))
        if own_team is None:  # a coach in no team coaches every team, as the Team page shows them
            return cls(None, unassigned=True)
        ids = session.scalars(select(Agent.id).where(Agent.team == own_team))
        return cls(frozenset(ids), unassigned=True)

    def admits(self, agent_id: int | None) -> bool:
        if agent_id is None:
            return self.unassigned
        return self.agent_ids is None or agent_id in self.agent_ids


def _email_items(
    session: Session,
    period: _Period,
    scope: _Scope,
    calendar: BusinessCalendar,
    targets: ResponseTargets,
    now: datetime,
) -> list[TargetItem]:
    # Threads with an inbound message in the period; all their messages, for the waits' ends.
    recent = (
        select(Message.thread_id)
        .join(Thread, Thread.id == Message.thread_id)
        .where(
            Thread.channel == "email",
            Message.direction == "inbound",
            Message.sent_at >= period.start,
            Message.sent_at < period.end,
        )
    )
    rows = session.execute(
        select(
            Thread.id,
            Thread.subject,
            Thread.customer_id,
            Thread.agent_id,
            Customer.display_name,
            Agent.name,
            Agent.team,
            Message.direction,
            Message.sent_at,
        )
        .join(Message, Message.thread_id == Thread.id)
        .outerjoin(Customer, Customer.id == Thread.customer_id)
        .outerjoin(Agent, Agent.id == Thread.agent_id)
        .where(Thread.id.in_(recent))
        .order_by(Thread.id, Message.sent_at, Message.id)
    ).all()
    by_thread: dict[int, list[Any]] = {}
    for row in rows:
        if scope.admits(row.agent_id):
            by_thread.setdefault(row.id, []).append(row)
    items = []
    for thread_id, messages in by_thread.items():
        first = messages[0]
        for wait in reply_waits((m.direction, as_utc(m.sent_at)) for m in messages):
            if not period.holds(wait.since):
                continue
            judged = classify(wait, targets.email_reply_s, targets.at_risk_share, calendar, now)
            items.append(
                TargetItem(
                    kind="email_reply",
                    thread_id=thread_id,
                    answer_thread_id=thread_id if wait.answered_at else None,
                    customer_id=first.customer_id,
                    customer=first.display_name,
                    agent=first.name,
                    team=first.team,
                    subject=first.subject,
                    since=wait.since,
                    answered_at=wait.answered_at,
                    status=judged.status,
                    deadline=judged.deadline,
                    left_s=judged.left_s,
                )
            )
    return items


def _callback_items(
    session: Session,
    period: _Period,
    scope: _Scope,
    calendar: BusinessCalendar,
    targets: ResponseTargets,
    now: datetime,
) -> list[TargetItem]:
    missed_rows = session.execute(
        select(Thread.id, Thread.customer_id, Thread.started_at, Customer.display_name)
        .outerjoin(Customer, Customer.id == Thread.customer_id)
        .where(
            Thread.channel == "call",
            Thread.direction == "inbound",
            Thread.disposition.in_(MISSED_OUTCOMES),
            Thread.started_at >= period.start,
            Thread.started_at < period.end,
        )
        .order_by(Thread.started_at, Thread.id)
    ).all()
    # A call that reached someone: any outbound call, or an inbound one not missed.
    reached = or_(
        Thread.direction == "outbound",
        and_(
            Thread.direction == "inbound",
            or_(Thread.disposition.is_(None), Thread.disposition.not_in(MISSED_OUTCOMES)),
        ),
    )
    customers = {row.customer_id for row in missed_rows if row.customer_id is not None}
    later: dict[int, list[Any]] = {}
    if customers:
        calls = session.execute(
            select(Thread.id, Thread.customer_id, Thread.started_at, Thread.agent_id, Agent.name, Agent.team)
            .outerjoin(Agent, Agent.id == Thread.agent_id)
            .where(
                Thread.channel == "call",
                reached,
                Thread.customer_id.in_(customers),
                Thread.started_at >= period.start,
            )
            .order_by(Thread.started_at, Thread.id)
        ).all()
        for call in calls:
            later.setdefault(call.customer_id, []).append(call)
    items = []
    for missed in missed_rows:
        at = as_utc(missed.started_at)
        answer = next((c for c in later.get(missed.customer_id, ()) if as_utc(c.started_at) > at), None)
        agent_id = answer.agent_id if answer is not None else None
        if not scope.admits(agent_id):
            continue
        wait = Wait(at, as_utc(answer.started_at) if answer is not None else None)
        judged = classify(wait, targets.callback_s, targets.at_risk_share, calendar, now)
        items.append(
            TargetItem(
                kind="callback",
                thread_id=missed.id,
                answer_thread_id=answer.id if answer is not None else None,
                customer_id=missed.customer_id,
                customer=missed.display_name,
                agent=answer.name if answer is not None else None,
                team=answer.team if answer is not None else None,
                subject=None,
                since=at,
                answered_at=wait.answered_at,
                status=judged.status,
                deadline=judged.deadline,
                left_s=judged.left_s,
            )
        )
    return items


def _duration(seconds: float) -> str:
    minutes = round(seconds / 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def _urgency(item: TargetItem) -> tuple[int, int, float, float]:
    """Waiting before answered; then breached, at risk, on track; the least time left first."""
    return (not item.waiting, STATUSES.index(item.status), item.left_s, item.since.timestamp())


def _grouped(items: Sequence[TargetItem], key: Callable[[TargetItem], str | None]) -> list[GroupCounts]:
    groups: dict[str | None, Counter[Status]] = {}
    for item in items:
        groups.setdefault(key(item), Counter())[item.status] += 1
    return [
        GroupCounts(name, (counter["breached"], counter["at_risk"], counter["on_track"], counter["met"]))
        for name, counter in sorted(groups.items(), key=lambda pair: (pair[0] is None, pair[0] or ""))
    ]
