"""Who knows this customer: the agents who handled their conversations, how often, when last and on
which channels. For the Customer page and ``earshot customer agents`` (a phone system routes a
returning caller to someone who knows them).

One query, grouped by agent and channel, whatever the number of agents or conversations. A
conversation with no agent (an unanswered chat, an IVR-only call) names no one, so it is left out.
A customer merged into another is refused as the history refuses it: its conversations live with
the survivor now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select

from storage.access import Permission, Principal, require_unless_command_line
from storage.audit import record_read
from storage.audit_subjects import Subject
from storage.customers import require_customer
from storage.db import Database, read_scope
from storage.models import Agent, Message, Thread, as_utc

__all__ = ["AgentContact", "agents_of_customer"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # a sort key's stand-in where no time is known


@dataclass(frozen=True)
class AgentContact:
    agent_id: int
    name: str
    team: str | None
    contacts: int  # conversations (a call, a chat, an e-mail thread) the agent handled
    last_contact: datetime | None  # UTC; None when none of them has a time
    channels: tuple[tuple[str, int], ...]  # (channel, conversations), most first


def agents_of_customer(db: Database, who: Principal | None, customer_id: int) -> list[AgentContact]:
    """The customer's agents, the most recently in touch first. ``who`` None: the command line."""
    require_unless_command_line(who, Permission.LOOKUP_CUSTOMERS)
    # A conversation's time is its last message (a chat may run for days), else when it started.
    last_sent = (
        select(func.max(Message.sent_at))
        .where(Message.thread_id == Thread.id)
        .correlate(Thread)
        .scalar_subquery()
    )
    at = func.coalesce(last_sent, Thread.started_at, Thread.created_at)
    query = (
        select(
            Agent.id,
            Agent.name,
            Agent.team,
            Thread.channel,
            func.count(Thread.id).label("contacts"),
            func.max(at).label("last"),
        )
        .join(Agent, Agent.id == Thread.agent_id)
        .where(Thread.customer_id == customer_id)
        .group_by(Agent.id, Agent.name, Agent.team, Thread.channel)
    )
    with read_scope(db) as session:
        require_customer(session, customer_id)
        rows = session.execute(query).all()
    grouped: dict[int, list[tuple[str, int, datetime | None]]] = {}
    names: dict[int, tuple[str, str | None]] = {}
    for row in rows:
        grouped.setdefault(row.id, []).append((row.channel, row.contacts, as_utc(row.last)))
        names[row.id] = (row.name, row.team)
    found = [
        AgentContact(
            agent_id=agent_id,
            name=names[agent_id][0],
            team=names[agent_id][1],
            contacts=sum(count for _, count, _ in per_channel),
            last_contact=max((at for _, _, at in per_channel if at is not None), default=None),
            channels=tuple(
                sorted(((channel, count) for channel, count, _ in per_channel), key=lambda c: (-c[1], c[0]))
            ),
        )
        for agent_id, per_channel in grouped.items()
    ]
    found.sort(key=lambda a: (a.last_contact is None, -(a.last_contact or _EPOCH).timestamp(), a.name))
    record_read(
        db,
        who,
        "customer_agents_viewed",
        Subject("customer", customer_id),
        {"agents": [a.agent_id for a in found]},
    )
    return found
