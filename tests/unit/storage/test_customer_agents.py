"""Who knows a customer (``storage.customer_agents``) on SQLite and PostgreSQL: counts per agent and
channel, the most recent first, conversations without an agent left out, merged customers refused
as the history refuses them, the role check and the audit row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from storage import access
from storage.access import Permission, Principal
from storage.audit import COMMAND_LINE, list_audit
from storage.customer_agents import AgentContact, agents_of_customer
from storage.customers import merge_customers
from storage.db import Database, session_scope
from storage.errors import NotFound, PermissionDenied
from storage.models import Agent, Customer, Message, Thread

DAY = datetime(2026, 11, 2, 9, tzinfo=UTC)


def _thread(session: Session, customer: Customer, agent: Agent | None, channel: str, day: int) -> Thread:
    thread = Thread(
        customer=customer,
        agent=agent,
        channel=channel,
        provider="test",
        provider_id=f"{channel}-{customer.display_name}-{day}-{agent.name if agent else '-'}",
        started_at=DAY + timedelta(days=day),
    )
    session.add(thread)
    return thread


@pytest.fixture
def emma(db: Database) -> int:
    """Emma: Alice three times (two calls, a chat), Bob once by e-mail but most recently (his thread's
    last message is newer than its start), a WhatsApp no agent took; Noah's call with Carol."""
    with session_scope(db) as session:
        alice = Agent(name="Alice", team="North")
        bob = Agent(name="Bob")
        carol = Agent(name="Carol")
        emma = Customer(display_name="Emma Stone")
        noah = Customer(display_name="Noah Berg")
        _thread(session, emma, alice, "call", 0)
        _thread(session, emma, alice, "call", 3)
        _thread(session, emma, alice, "chat", 5)
        mail = _thread(session, emma, bob, "email", 1)
        session.add(
            Message(
                thread=mail,
                provider_message_id="m1",
                direction="outbound",
                sent_at=DAY + timedelta(days=9),
                body="Following up",
            )
        )
        _thread(session, emma, None, "whatsapp", 12)
        _thread(session, noah, carol, "call", 20)
        session.flush()
        return emma.id


def test_agents_counted_per_channel_most_recent_first(db: Database, emma: int) -> None:
    with session_scope(db) as session:
        ids = {a.name: a.id for a in session.query(Agent)}
    assert agents_of_customer(db, None, emma) == [
        AgentContact(
            agent_id=ids["Bob"],
            name="Bob",
            team=None,
            contacts=1,
            last_contact=DAY + timedelta(days=9),
            channels=(("email", 1),),
        ),
        AgentContact(
            agent_id=ids["Alice"],
            name="Alice",
            team="North",
            contacts=3,
            last_contact=DAY + timedelta(days=5),
            channels=(("call", 2), ("chat", 1)),
        ),
    ]


def test_one_query_whatever_the_number_of_agents(db: Database, emma: int) -> None:
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if "GROUP BY" in statement.upper():
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        agents_of_customer(db, None, emma)
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert len(statements) == 1


def test_audited_once_with_the_customer_as_subject(
    db: Database, emma: int, people: dict[str, Principal]
) -> None:
    found = agents_of_customer(db, people["agent"], emma)
    agents_of_customer(db, None, emma)
    rows = list_audit(db, people["compliance"], action="customer_agents_viewed")
    assert [(r.username, r.target, r.details["agents"]) for r in rows] == [
        (COMMAND_LINE, f"customer:{emma}", [a.agent_id for a in found]),
        (people["agent"].username, f"customer:{emma}", [a.agent_id for a in found]),
    ]


def test_role_refused_before_anything_is_read(
    db: Database, emma: int, people: dict[str, Principal], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every role may look customers up today; the check must still stand if one may not.
    monkeypatch.setitem(
        access.ROLE_PERMISSIONS, "agent", access.ROLE_PERMISSIONS["agent"] - {Permission.LOOKUP_CUSTOMERS}
    )
    with pytest.raises(PermissionDenied, match="lookup customers"):
        agents_of_customer(db, people["agent"], emma)
    assert list_audit(db, people["compliance"], action="customer_agents_viewed") == []


def test_unknown_and_merged_customers_refused(db: Database, emma: int) -> None:
    with pytest.raises(NotFound, match="no customer with id 999"):
        agents_of_customer(db, None, 999)
    with session_scope(db) as session:
        other = Customer(display_name="Emma S.")
        session.add(other)
        session.flush()
        carol = session.query(Agent).filter_by(name="Carol").one()
        _thread(session, other, carol, "sms", 30)
        other_id = other.id
    merge_customers(db, emma, other_id, by="test")
    with pytest.raises(NotFound, match=f"merged into customer {emma}"):
        agents_of_customer(db, None, other_id)
    # The survivor now holds the merged customer's conversation with Carol, the newest.
    assert [(a.name, a.channels) for a in agents_of_customer(db, None, emma)][0] == ("Carol", (("sms", 1),))


def test_a_customer_nobody_handled(db: Database, emma: int) -> None:
    with session_scope(db) as session:
        lone = Customer(display_name="Lone")
        _thread(session, lone, None, "chat", 1)
        session.flush()
        lone_id = lone.id
    assert agents_of_customer(db, None, lone_id) == []
