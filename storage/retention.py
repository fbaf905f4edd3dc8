"""Retention policies: how long each channel's conversations are kept, and applying them.

A policy names a channel (call, chat, email, whatsapp, ...), optionally narrowed to one direction
(inbound, outbound, internal) or one agent, a number of days, and what goes when they have passed:
``everything`` (the conversation with its audio, transcript, messages and index rows) or, for
calls, only the ``audio`` (the transcript stays). Where several policies match a conversation the
most specific one decides (agent before direction before the channel alone), so a longer rule for
one agent's calls overrides the channel's. A conversation's age counts from its start (a call's
start, a chat's first message) or, when unknown, from when it was stored.

Applying goes through ``storage.deletion``: held conversations are skipped and counted, every run
is audited with counts. ``apply_retention`` is a plain function, so the worker (or a scheduler such
as procrastinate's periodic tasks) calls it on a schedule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, get_args

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.access import Permission, Principal, require_unless_command_line
from storage.audit import COMMAND_LINE, acting_name, append_event
from storage.blobs import BlobStore
from storage.db import Database, read_scope, session_scope
from storage.deletion import DeletionPlan, DeletionReport, delete
from storage.errors import InvalidValue, NotFound
from storage.models import Agent, RetentionPolicy, Thread, as_utc, utc_now
from storage.search import CHANNEL_NAME

__all__ = [
    "DIRECTIONS",
    "RETENTION_DELETES",
    "PolicyView",
    "RetentionDelete",
    "RetentionRun",
    "apply_retention",
    "list_policies",
    "remove_policy",
    "set_policy",
]

RetentionDelete = Literal["everything", "audio"]
RETENTION_DELETES: tuple[RetentionDelete, ...] = get_args(RetentionDelete)
DIRECTIONS = ("inbound", "outbound", "internal")
MAX_KEEP_DAYS = 100 * 366


@dataclass(frozen=True)
class PolicyView:
    id: int
    channel: str
    direction: str | None
    agent: str | None
    keep_days: int
    delete: RetentionDelete
    set_by: str
    set_at: datetime

    @property
    def covers(self) -> str:
        """What the policy applies to, in words: "inbound call of agent Sam Jansen"."""
        words = [self.direction, self.channel] if self.direction else [self.channel]
        return " ".join(words) + (f" of agent {self.agent}" if self.agent else "")


@dataclass(frozen=True)
class RetentionRun:
    """One application of every policy: the whole conversations deleted, and the calls whose audio
    alone was deleted (each a ``DeletionReport`` of counts, as audited)."""

    everything: DeletionReport
    audio_only: DeletionReport


def set_policy(
    db: Database,
    who: Principal | None,
    channel: str,
    keep_days: int,
    delete: RetentionDelete = "everything",
    *,
    direction: str | None = None,
    agent: str | None = None,
) -> PolicyView:
    """Create the policy for this channel (and direction and agent), or change its days and what it
    deletes. ``who`` None: the command line. Audited as ``retention_policy_set``."""
    require_unless_command_line(who, Permission.MANAGE_COMPLIANCE)
    channel = channel.strip().lower()
    agent = agent.strip() if agent and agent.strip() else None
    if not CHANNEL_NAME.fullmatch(channel):
        raise InvalidValue(f"channel {channel!r} is not a channel name (call, chat, email, whatsapp, ...)")
    if direction is not None and direction not in DIRECTIONS:
        raise InvalidValue(f"direction {direction!r} is not one of {', '.join(DIRECTIONS)}")
    if delete not in RETENTION_DELETES:
        raise InvalidValue(f"a policy deletes {' or '.join(RETENTION_DELETES)}, not {delete!r}")
    if delete == "audio" and channel != "call":
        raise InvalidValue(f"only calls have audio; a {channel} policy deletes everything")
    if not 1 <= keep_days <= MAX_KEEP_DAYS:
        raise InvalidValue(f"keep days must be between 1 and {MAX_KEEP_DAYS}, not {keep_days}")
    with session_scope(db) as session:
        row = session.scalar(
            select(RetentionPolicy).where(
                RetentionPolicy.channel == channel,
                RetentionPolicy.direction.is_(None)
                if direction is None
                else RetentionPolicy.direction == direction,
                RetentionPolicy.agent.is_(None) if agent is None else RetentionPolicy.agent == agent,
            )
        )
        if row is None:
            row = RetentionPolicy(channel=channel, direction=direction, agent=agent)
            session.add(row)
        row.keep_days, row.delete, row.set_by, row.set_at = keep_days, delete, acting_name(who), utc_now()
        session.flush()
        view = _view(row)
        details = {"covers": view.covers, "keep_days": keep_days, "delete": delete}
        append_event(
            session,
            who,
            "retention_policy_set",
            f"retention_policy:{row.id}",
            details,
            username=acting_name(who),
        )
    return view


def remove_policy(db: Database, who: Principal | None, policy_id: int) -> None:
    """Remove a policy: its conversations are kept for good, or by a less specific policy."""
    require_unless_command_line(who, Permission.MANAGE_COMPLIANCE)
    with session_scope(db) as session:
        row = session.get(RetentionPolicy, policy_id)
        if row is None:
            raise NotFound(f"no retention policy with id {policy_id}")
        details = {"covers": _view(row).covers, "keep_days": row.keep_days, "delete": row.delete}
        session.delete(row)
        append_event(
            session,
            who,
            "retention_policy_removed",
            f"retention_policy:{policy_id}",
            details,
            username=acting_name(who),
        )


def list_policies(db: Database, who: Principal | None) -> list[PolicyView]:
    require_unless_command_line(who, Permission.VIEW_COMPLIANCE)
    with read_scope(db) as session:
        rows = session.scalars(
            # The channel's own policy first, then the narrower ones (NULL sorts last on PostgreSQL).
            select(RetentionPolicy).order_by(
                RetentionPolicy.channel,
                RetentionPolicy.direction.asc().nulls_first(),
                RetentionPolicy.agent.asc().nulls_first(),
            )
        )
        return [_view(row) for row in rows]


def apply_retention(
    db: Database,
    blobs: BlobStore,
    who: Principal | None,
    *,
    dry_run: bool,
    now: datetime | None = None,
    username: str = COMMAND_LINE,
) -> RetentionRun:
    """Delete what every policy says has been kept long enough, skipping what a legal hold covers;
    with ``dry_run`` only count it. ``who`` None: the command line, or the worker's schedule
    (``username`` says which in the audit log)."""
    require_unless_command_line(who, Permission.MANAGE_COMPLIANCE)
    now = now or utc_now()
    with read_scope(db) as session:
        due = _due(session, now)
    runs = {
        deletes: delete(
            db,
            blobs,
            DeletionPlan(frozenset(due[deletes]), audio_only=deletes == "audio"),
            who=who,
            purpose="retention",
            target="retention",
            dry_run=dry_run,
            skip_held=True,
            username=username,
            today=now.date(),
        )
        for deletes in RETENTION_DELETES
    }
    return RetentionRun(everything=runs["everything"], audio_only=runs["audio"])


def _due(session: Session, now: datetime) -> dict[RetentionDelete, set[int]]:
    """The conversations whose deciding policy's days have passed, by what that policy deletes."""
    policies = [_view(row) for row in session.scalars(select(RetentionPolicy))]
    due: dict[RetentionDelete, set[int]] = {deletes: set() for deletes in RETENTION_DELETES}
    if not policies:
        return due
    shortest = min(policy.keep_days for policy in policies)
    started = func.coalesce(Thread.started_at, Thread.created_at)
    candidates = session.execute(
        select(Thread.id, Thread.channel, Thread.direction, Agent.name, started.label("started"))
        .outerjoin(Agent, Agent.id == Thread.agent_id)
        .where(Thread.channel.in_({policy.channel for policy in policies}))
        .where(started < now - timedelta(days=shortest))
    )
    for thread_id, channel, direction, agent, at in candidates:
        deciding = _deciding(policies, channel, direction, agent)
        if deciding is not None and as_utc(at) < now - timedelta(days=deciding.keep_days):
            due[deciding.delete].add(thread_id)
    return due


def _deciding(
    policies: list[PolicyView], channel: str, direction: str | None, agent: str | None
) -> PolicyView | None:
    """The most specific policy that matches: one naming the agent, then the direction, then neither."""
    matching = [
        policy
        for policy in policies
        if policy.channel == channel
        and policy.direction in (None, direction)
        and policy.agent in (None, agent)
    ]
    return max(matching, key=lambda p: (p.agent is not None, p.direction is not None), default=None)


def _view(row: RetentionPolicy) -> PolicyView:
    return PolicyView(
        id=row.id,
        channel=row.channel,
        direction=row.direction,
        agent=row.agent,
        keep_days=row.keep_days,
        delete=row.delete,  # type: ignore[arg-type]
        set_by=row.set_by,
        set_at=as_utc(row.set_at),
    )
