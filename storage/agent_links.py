"""Which PBX agent an account is linked to: an existing agent, matched whatever the letter case, or a new
one only when the caller asks for it.

A typo ("Alcie") or another spelling of a known agent ("alice") must not quietly make a phantom agent
whose calls never come, leaving the account with none of its own. Calls create agents as they name
them; an account may be made before its agent's first call, so creating one stays possible, on purpose.
"""

from __future__ import annotations

import difflib

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.errors import InvalidValue
from storage.models import Agent

__all__ = ["linked_agent"]

_SUGGESTIONS = 3


def linked_agent(session: Session, name: str | None, *, create: bool = False) -> Agent | None:
    """The agent called ``name`` (None or blank: no agent). Without an exact match, the one agent whose
    name differs only in letter case; with none, a new agent when ``create``, else a refusal that
    names the closest existing agents."""
    if name is None or not name.strip():
        return None
    name = name.strip()
    same = select(Agent).where(func.lower(Agent.name) == name.lower()).order_by(Agent.id)
    matches = session.scalars(same).all()
    exact = [agent for agent in matches if agent.name == name]
    if exact or len(matches) == 1:
        return (exact or matches)[0]
    if matches:
        spellings = ", ".join(repr(agent.name) for agent in matches)
        raise InvalidValue(f"PBX agent {name!r} is ambiguous: {spellings} differ only in letter case")
    if not create:
        raise InvalidValue(f"there is no PBX agent {name!r}{_suggestion(session, name)}")
    agent = Agent(name=name)
    session.add(agent)
    session.flush()
    return agent


def _suggestion(session: Session, name: str) -> str:
    names = session.scalars(select(Agent.name)).all()
    by_lower = {known.lower(): known for known in names}
    close = difflib.get_close_matches(name.lower(), list(by_lower), n=_SUGGESTIONS)
    hint = f"; did you mean {' or '.join(repr(by_lower[c]) for c in close)}?" if close else ""
    return hint + " (pick an existing agent, or create a new one on purpose)"
