"""Linking an account to a PBX agent never makes a phantom agent by accident; real SQLite files."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage import users
from storage.access import Principal
from storage.db import Database, read_scope, session_scope
from storage.errors import InvalidValue
from storage.models import Agent, AuditEntry
from tests.unit.storage.conftest import PASSWORD


def _agents(db: Database) -> list[str]:
    with read_scope(db) as session:
        return list(session.scalars(select(Agent.name).order_by(Agent.name)))


def test_an_existing_agent_is_matched_whatever_the_letter_case(
    db: Database, people: dict[str, Principal]
) -> None:
    created = users.create_user(db, "ann@example.com", PASSWORD, "agent", agent_name=" ALICE ", actor=None)
    assert (created.agent, created.agent_id) == ("Alice", people["agent"].agent_id)
    changed = users.set_role(db, "coach@example.com", "agent", "alice", actor=people["admin"])
    assert changed.agent == "Alice"
    assert _agents(db) == ["Alice"]
    with read_scope(db) as session:
        last = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).one()
    assert last.details["agent"] == "Alice"  # the agent linked, not the spelling typed


@pytest.mark.parametrize(
    "call",
    [
        lambda db, admin: users.create_user(
            db, "ann@example.com", PASSWORD, "agent", None, "Alcie", actor=admin
        ),
        lambda db, admin: users.set_role(db, "coach@example.com", "agent", "Alcie", actor=admin),
    ],
)
def test_an_unknown_agent_is_refused_with_close_matches_and_nothing_changes(
    db: Database, people: dict[str, Principal], call
) -> None:
    with session_scope(db) as session:
        session.add(Agent(name="Bob"))
    before = users.list_users(db, actor=None)
    with pytest.raises(
        InvalidValue,
        match=r"^there is no PBX agent 'Alcie'; did you mean 'Alice'\? \(pick an existing agent, or create",
    ):
        call(db, people["admin"])
    assert users.list_users(db, actor=None) == before
    assert _agents(db) == ["Alice", "Bob"]


def test_a_new_agent_only_on_purpose_and_never_a_second_spelling(
    db: Database, people: dict[str, Principal]
) -> None:
    with pytest.raises(InvalidValue, match="^there is no PBX agent 'Carol' \\(pick an existing"):
        users.create_user(db, "carol@example.com", PASSWORD, "agent", agent_name="Carol", actor=None)
    carol = users.create_user(
        db, "carol@example.com", PASSWORD, "agent", agent_name="Carol", actor=None, create_agent=True
    )
    again = users.set_role(db, "carol@example.com", "agent", "CAROL", actor=None, create_agent=True)
    assert carol.agent == again.agent == "Carol" and carol.agent_id == again.agent_id
    assert _agents(db) == ["Alice", "Carol"]


def test_spellings_that_differ_only_in_case_must_be_given_exactly(
    db: Database, people: dict[str, Principal]
) -> None:
    with session_scope(db) as session:  # as two PBX exports may have named her
        session.add(Agent(name="ALICE"))
    with pytest.raises(
        InvalidValue, match="'alice' is ambiguous: 'Alice', 'ALICE' differ only in letter case"
    ):
        users.set_role(db, "coach@example.com", "agent", "alice", actor=None)
    assert users.set_role(db, "coach@example.com", "agent", "ALICE", actor=None).agent == "ALICE"
