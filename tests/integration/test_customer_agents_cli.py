"""``earshot customer agents``: who knows a customer, as a table and as JSON for a phone system's
routing, on SQLite and PostgreSQL; audited as the command line."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from earshot.cli import main
from storage.audit import COMMAND_LINE
from storage.db import Database, read_scope, session_scope
from storage.models import Agent, AuditEntry, Customer, Identity, Thread

DAY = datetime(2026, 11, 2, 9, tzinfo=UTC)


@pytest.fixture
def emma(db: Database) -> int:
    """Emma (emma@example.com): two calls with Alice, an e-mail with Bob after them, a chat nobody took."""
    with session_scope(db) as session:
        alice, bob = Agent(name="Alice", team="North"), Agent(name="Bob")
        emma = Customer(display_name="Emma Stone")
        session.add(
            Identity(customer=emma, kind="email", value="emma@example.com", raw_value="emma@example.com")
        )
        for number, (agent, channel, day) in enumerate(
            [(alice, "call", 0), (alice, "call", 2), (bob, "email", 4), (None, "chat", 6)]
        ):
            session.add(
                Thread(
                    customer=emma,
                    agent=agent,
                    channel=channel,
                    provider="test",
                    provider_id=str(number),
                    started_at=DAY + timedelta(days=day),
                )
            )
        session.flush()
        return emma.id


def run(database_url: str, tmp_path: Path, *args: str) -> Result:
    return CliRunner(env={"EARSHOT_DATABASE_URL": database_url}).invoke(
        main, ["--data-dir", str(tmp_path / "data"), *args], catch_exceptions=False
    )


def test_customer_agents_table_and_json(db: Database, emma: int, database_url: str, tmp_path: Path) -> None:
    table = run(database_url, tmp_path, "customer", "agents", "emma@example.com")
    assert table.exit_code == 0
    header, bob, alice = table.stdout.splitlines()
    assert header.split() == ["agent", "contacts", "last", "contact", "(UTC)", "channels"]
    assert bob.split() == ["Bob", "1", "2026-11-06", "09:00", "email", "1"]
    assert alice.split() == ["Alice", "2", "2026-11-04", "09:00", "call", "2"]

    routing = json.loads(run(database_url, tmp_path, "customer", "agents", str(emma), "--json").stdout)
    assert [(r["agent"], r["contacts"], r["last_contact"], r["channels"]) for r in routing] == [
        ("Bob", 1, "2026-11-06T09:00:00+00:00", {"email": 1}),
        ("Alice", 2, "2026-11-04T09:00:00+00:00", {"call": 2}),
    ]
    assert isinstance(routing[0]["agent_id"], int) and routing[1]["team"] == "North"

    with read_scope(db) as session:
        audited = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "customer_agents_viewed").order_by(AuditEntry.id)
        ).all()
        assert [(e.username, e.target) for e in audited] == [(COMMAND_LINE, f"customer:{emma}")] * 2


def test_customer_agents_not_found(db: Database, database_url: str, tmp_path: Path) -> None:
    missing = run(database_url, tmp_path, "customer", "agents", "nobody@example.org")
    assert missing.exit_code != 0 and missing.stderr.startswith("error: no customer matches")
