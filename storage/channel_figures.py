"""What each channel and each agent achieves, per day or week: contacts, handle time, first response
time, time to resolution, and the customers' own verdict (CSAT, NPS, CES from ``storage.survey_import``).

What the times mean, per contact (a call, or a chat / e-mail / other thread), in seconds:

- handle time: a call's duration; a thread's open (its first message) to the agent's last reply
  (its last outbound message). Threads with no reply have none.
- first response time: a thread opened by the customer (its first message is inbound), from that
  message to the first outbound one. Plain elapsed time, nights and weekends included: working
  time is another module's (business hours), to be joined later. Calls have none.
- time to resolution: a call is resolved when it ends (its duration); a thread from its first to
  its last message. A contact is not followed across channels.

CSAT and CES are mean scores; NPS is the share of promoters (9-10) less the share of detractors (0-6),
in percent. Answers count towards the day and group of the conversation they rate.

Everything is summed and counted in SQL, grouped by day or week (in the organisation's zone, exact
across daylight-saving changes) and by channel or agent; Python only divides and adds up totals.
A period's conversations are read from ``ix_threads_started_at_channel_agent`` and each one's first
and last message each way from ``ix_messages_thread_direction_sent`` (migration 0024).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, ColumnElement, and_, case, cast, extract, func, literal, select

from storage.access import Permission, Principal, require, require_unless_command_line
from storage.audit import record_read
from storage.db import Database, read_scope
from storage.errors import InvalidValue, NotFound
from storage.models import Agent, Message, Recording, SurveyResponse, Thread, as_utc

__all__ = [
    "FIGURE_GROUPS",
    "FIGURE_PERIODS",
    "FigureChoices",
    "FigureGroup",
    "FigurePeriod",
    "FigureRequest",
    "FigureRow",
    "Figures",
    "agent_named",
    "channel_figures",
    "figure_choices",
]

FigureGroup = Literal["channel", "agent"]
FIGURE_GROUPS: tuple[FigureGroup, ...] = get_args(FigureGroup)
FigurePeriod = Literal["day", "week"]
FIGURE_PERIODS: tuple[FigurePeriod, ...] = get_args(FigurePeriod)
NO_AGENT = "(no agent)"
_EPOCH_DAY = date(1970, 1, 1)  # a Thursday: week numbers below start on Mondays
_DAY = 86_400
_CALL = "call"


@dataclass(frozen=True)
class FigureRequest:
    start: datetime  # inclusive, time-zone aware
    end: datetime  # exclusive
    by: FigureGroup = "channel"
    per: FigurePeriod = "day"
    channel: str | None = None  # only this channel's contacts
    agent_id: int | None = None  # only this agent's
    zone: str = "UTC"  # the organisation's: where days begin
    promoter_from: float = 9  # NPS: promoters answer this or more
    detractor_to: float = 6  # and detractors this or less


@dataclass(frozen=True)
class FigureRow:
    """One group's figures for one day or week (``bucket``: the day, or the week's Monday), or for the
    whole period (``bucket`` None) in ``Figures.totals``. Times are mean seconds; None: nothing to
    measure."""

    bucket: date | None
    group: str  # the channel, or the agent's name
    contacts: int
    handle_time: float | None
    first_response: float | None
    resolution: float | None
    csat: float | None
    ces: float | None
    nps: float | None  # -100..100
    survey_answers: int


@dataclass(frozen=True)
class Figures:
    request: FigureRequest
    rows: tuple[FigureRow, ...]  # by bucket, then group
    totals: tuple[FigureRow, ...]  # one per group, most contacts first


@dataclass
class _Sums:
    """What SQL summed and counted for one bucket and group; adding two gives their union."""

    contacts: int = 0
    values: dict[str, list[float]] = field(default_factory=dict)  # measure -> [sum, count]

    def add(self, measure: str, total: Any, count: Any) -> None:
        if count:
            entry = self.values.setdefault(measure, [0.0, 0.0])
            entry[0] += float(total or 0)
            entry[1] += float(count)

    def merge(self, other: _Sums) -> None:
        self.contacts += other.contacts
        for measure, (total, count) in other.values.items():
            self.add(measure, total, count)

    def mean(self, measure: str) -> float | None:
        total, count = self.values.get(measure, (0.0, 0.0))
        return total / count if count else None

    def count(self, measure: str) -> int:
        return int(self.values.get(measure, (0.0, 0.0))[1])

    def row(self, bucket: date | None, group: str) -> FigureRow:
        answered = self.count("nps")
        nps = None
        if answered:
            nps = 100 * (self.values["promoters"][0] - self.values["detractors"][0]) / answered
        return FigureRow(
            bucket=bucket,
            group=group,
            contacts=self.contacts,
            handle_time=self.mean("handle"),
            first_response=self.mean("first_response"),
            resolution=self.mean("resolution"),
            csat=self.mean("csat"),
            ces=self.mean("ces"),
            nps=nps,
            survey_answers=self.count("csat") + self.count("ces") + answered,
        )


def channel_figures(db: Database, who: Principal | None, request: FigureRequest) -> Figures:
    """The figures of the conversations that started in the request's period. ``who`` None: the
    command line."""
    require_unless_command_line(who, Permission.VIEW_AGENT_OVERVIEWS)
    if request.end <= request.start:
        raise InvalidValue("the period ends before it starts")
    if request.start.tzinfo is None or request.end.tzinfo is None:
        raise InvalidValue("the period's start and end need a time zone")
    zone = ZoneInfo(request.zone)
    sums: dict[tuple[int, Any], _Sums] = {}
    with read_scope(db) as session:
        for row in session.execute(_contacts_query(request, zone)):
            entry = sums.setdefault((row.bucket, row.grp), _Sums())
            entry.contacts += row.contacts
            for measure in ("handle", "first_response", "resolution"):
                entry.add(measure, getattr(row, f"{measure}_sum"), getattr(row, f"{measure}_n"))
        for row in session.execute(_surveys_query(request, zone)):
            entry = sums.setdefault((row.bucket, row.grp), _Sums())
            entry.add(row.kind, row.score_sum, row.answers)
            if row.kind == "nps":
                entry.add("promoters", row.promoters, row.answers)
                entry.add("detractors", row.detractors, row.answers)
        names = _group_names(session, request, {grp for _, grp in sums})
    rows = tuple(
        sums[key].row(_bucket_day(key[0], request.per), names[key[1]])
        for key in sorted(sums, key=lambda key: (key[0], names[key[1]].lower()))
    )
    totals: dict[str, _Sums] = {}
    for (_, grp), entry in sums.items():
        totals.setdefault(names[grp], _Sums()).merge(entry)
    record_read(
        db,
        who,
        "figures_viewed",
        None,
        {
            "from": request.start.isoformat(),
            "to": request.end.isoformat(),
            "by": request.by,
            "per": request.per,
            "channel": request.channel,
            "agent_id": request.agent_id,
        },
    )
    return Figures(
        request=request,
        rows=rows,
        totals=tuple(
            sorted(
                (entry.row(None, group) for group, entry in totals.items()),
                key=lambda row: (-row.contacts, row.group.lower()),
            )
        ),
    )


def _epoch(moment: Any) -> ColumnElement[int]:
    """Whole seconds since 1970 on either backend (SQLite: strftime('%s'), PostgreSQL: EXTRACT)."""
    return cast(extract("epoch", moment), BigInteger)


def _bucket(epoch: ColumnElement[int], request: FigureRequest, zone: ZoneInfo) -> ColumnElement[int]:
    """The day (or week) number in the organisation's zone of a moment given in epoch seconds: the
    zone's offset is a CASE over its changes within the period, so every day starts at local midnight."""
    changes = _offset_changes(request.start, request.end, zone)
    offset: ColumnElement[int] = literal(changes[0][1])
    if len(changes) > 1:
        # Each offset holds until the next change.
        offset = case(
            *(
                (epoch < int(until.timestamp()), seconds)
                for (_, seconds), (until, _) in zip(changes, changes[1:], strict=False)
            ),
            else_=changes[-1][1],
        )
    day = (epoch + offset) // _DAY
    return day if request.per == "day" else (day + 3) // 7


def _offset_changes(start: datetime, end: datetime, zone: ZoneInfo) -> list[tuple[datetime, int]]:
    """(from when, UTC offset in seconds) over the period: the first from its start, then each change,
    found day by day and narrowed to the second."""

    def offset(moment: datetime) -> int:
        return int((moment.astimezone(zone).utcoffset() or timedelta()).total_seconds())

    moment = start.astimezone(UTC)
    changes = [(moment, offset(moment))]
    while moment < end:
        later = min(moment + timedelta(days=1), end.astimezone(UTC))
        if offset(later) != changes[-1][1]:
            low, high = moment, later
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                low, high = (middle, high) if offset(middle) == changes[-1][1] else (low, middle)
            changes.append((high, offset(high)))
        moment = later
    return changes


def _bucket_day(number: int, per: FigurePeriod) -> date:
    return _EPOCH_DAY + timedelta(days=number if per == "day" else 7 * number - 3)


def _in_request(request: FigureRequest) -> list[ColumnElement[bool]]:
    conditions = [Thread.started_at >= request.start, Thread.started_at < request.end]
    if request.channel is not None:
        conditions.append(Thread.channel == request.channel)
    if request.agent_id is not None:
        conditions.append(Thread.agent_id == request.agent_id)
    return conditions


def _group_column(request: FigureRequest) -> Any:
    return Thread.channel if request.by == "channel" else Thread.agent_id


def _contacts_query(request: FigureRequest, zone: ZoneInfo) -> Any:
    def sent(direction: str, pick: Any) -> ColumnElement[int]:
        first_or_last = (
            select(pick(Message.sent_at))
            .where(Message.thread_id == Thread.id, Message.direction == direction)
            .correlate(Thread)
            .scalar_subquery()
        )
        return _epoch(first_or_last)

    # One row per conversation: four seeks in the messages' index each. Materialized, because
    # SQLite would otherwise fold it into the outer query and repeat every seek in each expression
    # below that names its result.
    contact = (
        select(
            _bucket(_epoch(Thread.started_at), request, zone).label("bucket"),
            _group_column(request).label("grp"),
            Thread.channel,
            Recording.duration,
            sent("inbound", func.min).label("first_in"),
            sent("outbound", func.min).label("first_out"),
            sent("inbound", func.max).label("last_in"),
            sent("outbound", func.max).label("last_out"),
        )
        .outerjoin(Recording, Recording.thread_id == Thread.id)
        .where(*_in_request(request))
        .cte("contact")
        .prefix_with("MATERIALIZED")
    )
    c = contact.c
    first = case((c.first_in.is_(None), c.first_out), (c.first_out.is_(None), c.first_in), else_=c.first_in)
    first = case((and_(c.first_out.is_not(None), c.first_out < first), c.first_out), else_=first)
    last = case((c.last_in.is_(None), c.last_out), (c.last_out.is_(None), c.last_in), else_=c.last_in)
    last = case((and_(c.last_out.is_not(None), c.last_out > last), c.last_out), else_=last)
    is_call = c.channel == _CALL
    handle = case((is_call, c.duration), (c.last_out.is_not(None), c.last_out - first))
    first_response = case(
        (and_(~is_call, c.first_in.is_not(None), c.first_out >= c.first_in), c.first_out - c.first_in)
    )
    resolution = case((is_call, c.duration), else_=last - first)
    return select(
        c.bucket,
        c.grp,
        func.count().label("contacts"),
        *(
            expression
            for name, measure in (
                ("handle", handle),
                ("first_response", first_response),
                ("resolution", resolution),
            )
            for expression in (func.sum(measure).label(f"{name}_sum"), func.count(measure).label(f"{name}_n"))
        ),
    ).group_by(c.bucket, c.grp)


def _surveys_query(request: FigureRequest, zone: ZoneInfo) -> Any:
    bucket = _bucket(_epoch(Thread.started_at), request, zone).label("bucket")
    grp = _group_column(request).label("grp")
    score = SurveyResponse.score
    return (
        select(
            bucket,
            grp,
            SurveyResponse.kind,
            func.count().label("answers"),
            func.sum(score).label("score_sum"),
            func.sum(case((score >= request.promoter_from, 1), else_=0)).label("promoters"),
            func.sum(case((score <= request.detractor_to, 1), else_=0)).label("detractors"),
        )
        .join(Thread, Thread.id == SurveyResponse.thread_id)
        .where(*_in_request(request))
        .group_by(bucket, grp, SurveyResponse.kind)
    )


def _group_names(session: Any, request: FigureRequest, groups: Iterable[Any]) -> dict[Any, str]:
    if request.by == "channel":
        return {group: str(group) for group in groups}
    ids = [group for group in groups if group is not None]
    names: dict[Any, str] = {None: NO_AGENT}
    if ids:
        names.update(
            {
                row.id: row.name
                for row in session.execute(select(Agent.id, Agent.name).where(Agent.id.in_(ids)))
            }
        )
    return names


def agent_named(db: Database, name: str) -> int:
    """The id of the agent so named (the command line's ``--agent``)."""
    with read_scope(db) as session:
        found = session.scalar(select(Agent.id).where(Agent.name == name))
    if found is None:
        raise NotFound(f"no agent named {name!r}")
    return found


@dataclass(frozen=True)
class FigureChoices:
    """What the Figures page offers to filter on, and where its default period ends."""

    channels: tuple[str, ...]
    latest: datetime | None  # the newest contact's start, UTC


def figure_choices(db: Database, who: Principal) -> FigureChoices:
    """The channels in use, each found by one seek in the threads' unique index (channel first)
    rather than a DISTINCT over every conversation, and the newest contact's start."""
    require(who, Permission.VIEW_AGENT_OVERVIEWS)
    channels: list[str] = []
    with read_scope(db) as session:
        while True:
            query = select(func.min(Thread.channel))
            if channels:
                query = query.where(Thread.channel > channels[-1])
            found = session.scalar(query)
            if found is None:
                break
            channels.append(found)
        latest = session.scalar(select(func.max(Thread.started_at)))
    return FigureChoices(channels=tuple(channels), latest=as_utc(latest))
