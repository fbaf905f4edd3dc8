"""The PBX agents a coach can follow, for choosing whose overview to open."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from storage.access import Permission, Principal, require
from storage.db import Database, read_scope
from storage.models import Agent, Thread

__all__ = ["AgentRef", "list_agents"]


@dataclass(frozen=True)
class AgentRef:
    id: int
    name: str
    calls: int


def list_agents(db: Database, principal: Principal) -> list[AgentRef]:
    """Agents by name, with how many calls each has taken."""
    require(principal, Permission.VIEW_AGENT_OVERVIEWS)
    calls = (
        select(func.count(Thread.id))
        .where(Thread.agent_id == Agent.id, Thread.channel == "call")
        .correlate(Agent)
        .scalar_subquery()
    )
    with read_scope(db) as session:
        rows = session.execute(select(Agent.id, Agent.name, calls.label("calls")).order_by(Agent.name))
        return [AgentRef(row.id, row.name, row.calls) for row in rows]
