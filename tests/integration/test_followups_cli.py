"""``earshot followup add|list|done`` and the follow-ups in ``earshot history``, on SQLite and
PostgreSQL: due read and shown in the organisation's zone, overdue first, one-line errors that store
nothing, audited as the command line."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from earshot.cli import main
from earshot.demo_followups import add_demo_followups
from storage import users
from storage.audit import COMMAND_LINE
from storage.db import Database, read_scope, session_scope
from storage.followups import list_followups, resolve_assignee
from storage.models import Agent, AuditEntry, Customer, FollowUp, Identity, Thread
from tests.integration.test_customer_history import demo  # noqa: F401  (the demo's data, a fixture)
from tests.unit.storage.conftest import (
    cheap_hashing,  # noqa: F401  (a fixture)
    row_count,
)


@pytest.fixture
def threads(db: Database) -> dict[str, int]:
    """Emma's call with Alice and her chat nobody took."""
    with session_scope(db) as session:
        emma = Customer(display_name="Emma Stone")
        session.add(
            Identity(customer=emma, kind="email", value="emma@example.com", raw_value="emma@example.com")
        )
        call = Thread(customer=emma, agent=Agent(name="Alice"), channel="call", provider="t", provider_id="1")
        chat = Thread(customer=emma, channel="chat", provider="t", provider_id="2")
        session.add_all([call, chat])
        session.flush()
        return {"call": call.id, "chat": chat.id}


def run(database_url: str, tmp_path: Path, *args: str) -> Result:
    env = {"EARSHOT_DATABASE_URL": database_url, "EARSHOT_TIMEZONE": "Europe/Amsterdam"}
    return CliRunner(env=env).invoke(
        main, ["--data-dir", str(tmp_path / "data"), *args], catch_exceptions=False
    )


def test_add_list_done_and_history(
    db: Database, threads: dict[str, int], database_url: str, tmp_path: Path
) -> None:
    past = (datetime.now(UTC) - timedelta(days=2)).strftime("%Y-%m-%d")
    later = run(
        database_url,
        tmp_path,
        "followup",
        "add",
        str(threads["call"]),
        "--what",
        "Send it",
        "--due",
        "2099-01-05",
    )
    assert later.exit_code == 0, later.output
    # The conversation's agent by default; a day alone is due at its end, in the zone, labelled.
    assert later.stdout.strip().endswith("for Alice, due 2099-01-05 23:59 CET")
    overdue = run(
        database_url,
        tmp_path,
        "followup",
        "add",
        str(threads["chat"]),
        "--what",
        "Ring back",
        "--due",
        past,
        "--for",
        "Alice",
    )
    assert overdue.exit_code == 0, overdue.output

    listed = json.loads(run(database_url, tmp_path, "followup", "list", "--json").stdout)
    assert [(f["what"], f["overdue"], f["for"], f["customer"]) for f in listed] == [
        ("Ring back", True, "Alice", "Emma Stone"),
        ("Send it", False, "Alice", "Emma Stone"),
    ]
    only_overdue = run(database_url, tmp_path, "followup", "list", "--overdue", "--for", "Alice")
    assert len(only_overdue.stdout.splitlines()) == 1 and "OVERDUE" in only_overdue.stdout

    finished = run(database_url, tmp_path, "followup", "done", str(listed[0]["id"]))
    assert finished.exit_code == 0 and "done" in finished.stdout
    assert [
        f["what"] for f in json.loads(run(database_url, tmp_path, "followup", "list", "--json").stdout)
    ] == ["Send it"]
    done_ones = json.loads(
        run(database_url, tmp_path, "followup", "list", "--status", "done", "--json").stdout
    )
    assert [(f["what"], f["done_by"]) for f in done_ones] == [("Ring back", COMMAND_LINE)]

    history = run(database_url, tmp_path, "history", "emma@example.com")
    assert history.exit_code == 0
    shown = history.stdout.split("follow-ups:\n")[1].splitlines()
    assert [("Send it" in line, "Ring back" in line) for line in shown] == [(True, False), (False, True)]
    document = json.loads(run(database_url, tmp_path, "history", "emma@example.com", "--json").stdout)
    assert [f["what"] for f in document["followups"]] == ["Send it", "Ring back"]

    with read_scope(db) as session:
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.action.like("follow_up%")).order_by(AuditEntry.id)
        ).all()
    assert actions[:3] == ["follow_up_added", "follow_up_added", "follow_ups_listed"]
    assert "follow_up_done" in actions


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["add", "{chat}", "--what", "  ", "--due", "2099-01-05"], "error: a follow-up needs a text"),
        (["add", "{chat}", "--what", "x", "--due", "soon"], "error: due 'soon' is no date"),
        (["add", "999", "--what", "x", "--due", "2099-01-05"], "error: no conversation with id 999"),
        (["add", "{chat}", "--what", "x", "--due", "2099-01-05"], "error: conversation"),
        (
            ["add", "{chat}", "--what", "x", "--due", "2099-01-05", "--for", "nobody"],
            "error: no user or agent",
        ),
        (["done", "7"], "error: no follow-up with id 7"),
        (["list", "--for", "nobody"], "error: no user or agent"),
    ],
)
def test_bad_input_one_line_and_nothing_stored(
    db: Database, threads: dict[str, int], database_url: str, tmp_path: Path, args: list[str], message: str
) -> None:
    result = run(database_url, tmp_path, "followup", *(a.format(**threads) for a in args))
    assert result.exit_code == 1
    assert result.stderr.startswith(message) and len(result.stderr.splitlines()) == 1
    assert row_count(db, FollowUp) == 0


def test_the_demo_gives_its_customers_follow_ups_once(demo: Database, cheap_hashing: object) -> None:  # noqa: F811
    """The sample calls, chats and e-mails as the demo stores them; the demo account's follow-ups."""
    users.create_user(demo, "demo", "a long demo password", "admin", actor=None)
    assert add_demo_followups(demo, "demo") == 3
    assert add_demo_followups(demo, "demo") == 0  # a second demo run adds none
    now = datetime.now(UTC)
    mine = list_followups(demo, None, resolve_assignee(demo, "demo"), status="all", now=now)
    states = [(f.overdue(now), f.done_at is not None) for f in mine]
    assert states == [(True, False), (False, False), (False, True)]  # overdue, upcoming, done
    assert len({f.customer for f in mine}) == 2  # both demo customers, Emma and Peter
