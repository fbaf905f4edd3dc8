"""Teams: the team an agent works in, a name an admin sets (or clears) by agent. The team view
(``storage.quality.team_view``) and the call list filter on it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from storage.access import Permission, Principal, require, require_unless_command_line
from storage.agent_links import linked_agent
from storage.audit import COMMAND_LINE, append_event
from storage.audit_subjects import Subject
from storage.db import Database, read_scope, session_scope
from storage.errors import InvalidValue
from storage.limits import TEAM_MAX_CHARS, check_length
from storage.models import Agent

__all__ = ["AgentTeam", "list_teams", "set_agent_team"]


@dataclass(frozen=True)
class AgentTeam:
    agent: str  # as stored, whatever the case it was named in
    team: str | None


def set_agent_team(db: Database, agent_name: str, team: str | None, *, actor: Principal | None) -> AgentTeam:
    """Put agent ``agent_name`` in ``team`` (None or blank: in none).
    An admin's change, audited with the team before and after; ``actor`` None is the command line."""
    require_unless_command_line(actor, Permission.MANAGE_USERS)
    team = team.strip() if team and team.strip() else None
    if team is not None:
        check_length("a team's name", team, TEAM_MAX_CHARS)
    with session_scope(db) as session:
        agent = linked_agent(session, agent_name)
        if agent is None:
            raise InvalidValue("name the agent")
        before, agent.team = agent.team, team
        details = {"team": team, "before": before}
        append_event(
            session, actor, "agent_team_set", Subject("agent", agent.id), details, username=COMMAND_LINE
        )
        return AgentTeam(agent.name, team)


def list_teams(db: Database, who: Principal) -> list[str]:
    """Every team some agent is in, by name: what the team filters offer."""
    require(who, Permission.VIEW_AGENT_OVERVIEWS)
    with read_scope(db) as session:
        return list(
            session.scalars(select(Agent.team).distinct().where(Agent.team.is_not(None)).order_by(Agent.team))
        )
