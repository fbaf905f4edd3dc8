"""The PBX agents a coach can follow, for choosing whose overview to open."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from storage.access import Permission, Principal, require
from storage.db import Database, read_scope
from storage.models import Agent, Thread, as_utc

__all__ = ["AgentRef", "list_agents"]


@dataclass(frozen=True)
class AgentRef:
    id: int
    name: str
    calls: int
    last_call: date | None  # the day (UTC) of the agent's latest call: where an overview starts looking
    team: str | None


def list_agents(db: Database, principal: Principal) -> list[AgentRef]:
    """Agents by name, with how many calls each has taken, when the latest was, and their team."""
    require(principal, Permission.VIEW_AGENT_OVERVIEWS)
    their_calls = (Thread.agent_id == Agent.id, Thread.channel == "call")
    calls = select(func.count(Thread.id)).where(*their_calls).correlate(Agent).scalar_subquery()
    last = select(func.max(Thread.started_at)).where(*their_calls).correlate(Agent).scalar_subquery()
    with read_scope(db) as session:
        rows = session.execute(
            select(Agent.id, Agent.name, Agent.team, calls.label("calls"), last.label("last")).order_by(
                Agent.name
            )
        )
        return [
            AgentRef(row.id, row.name, row.calls, as_utc(row.last).date() if row.last else None, row.team)
            for row in rows
        ]
