"""``earshot sla``: a missed call imported from a real CDR file (no recording) and called back, an
e-mail answered late, judged in working time (the missed call came on a Dutch public holiday), as a
table and as JSON, on SQLite and PostgreSQL; filters, one-line errors, audited as the command line."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from earshot.cli import main
from storage.audit import COMMAND_LINE
from storage.db import Database, read_scope, session_scope
from storage.models import Agent, AuditEntry, Customer, Identity, Message, Thread
from tests.paths import REPO

CDR = REPO / "tests" / "fixtures" / "cdr" / "Master.csv"


def run(database_url: str, tmp_path: Path, *args: str) -> Result:
    env = {"EARSHOT_DATABASE_URL": database_url, "EARSHOT_TIMEZONE": "Europe/Amsterdam"}
    return CliRunner(env=env).invoke(
        main, ["--data-dir", str(tmp_path / "data"), *args], catch_exceptions=False
    )


@pytest.fixture
def stored(db: Database, database_url: str, tmp_path: Path) -> None:
    """The CDR fixture's unanswered queue call (Thursday 9 May 2024 10:00, Ascension Day) comes in through
    ``earshot ingest``; Alice calls back on Friday 09:40. Bob answers Noah's e-mail of Friday 16:00
    on Tuesday 14:00: 1 + 8 + 5 working hours, over the 6 allowed."""
    calls = tmp_path / "calls"
    calls.mkdir()
    # The fixture's caller 0699999999 is no valid Dutch number (the call is still stored, without a
    # customer to call back); a valid one lets the callback be found.
    cdr = tmp_path / "Master.csv"
    cdr.write_text(CDR.read_text(encoding="utf-8").replace("0699999999", "0612345679"), encoding="utf-8")
    ingested = run(database_url, tmp_path, "ingest", "--cdr", str(cdr), str(calls))
    assert ingested.exit_code == 0, ingested.output
    assert "1 missed call(s) from the CDR" in ingested.output
    again = run(database_url, tmp_path, "ingest", "--cdr", str(cdr), str(calls))
    assert "missed call" not in again.output  # stored once
    with session_scope(db) as session:
        caller = session.scalar(select(Identity).where(Identity.value == "+31612345679"))
        assert caller is not None
        alice, bob = Agent(name="Alice", team="North"), Agent(name="Bob", team="South")
        session.add(
            Thread(
                customer_id=caller.customer_id,
                agent=alice,
                channel="call",
                provider="test",
                provider_id="callback",
                direction="outbound",
                started_at=datetime(2024, 5, 10, 7, 40, tzinfo=UTC),
            )
        )
        mail = Thread(
            customer=Customer(display_name="Noah Berg"),
            agent=bob,
            channel="email",
            provider="test",
            provider_id="noah",
            subject="Invoice",
            started_at=datetime(2024, 5, 10, 14, tzinfo=UTC),
        )
        mail.messages += [
            Message(
                provider_message_id="q",
                direction="inbound",
                sent_at=datetime(2024, 5, 10, 14, tzinfo=UTC),
                body="?",
            ),
            Message(
                provider_message_id="a",
                direction="outbound",
                sent_at=datetime(2024, 5, 14, 12, tzinfo=UTC),
                body="!",
            ),
        ]
        session.add(mail)


def test_met_and_breached_as_json(db: Database, database_url: str, tmp_path: Path, stored: None) -> None:
    result = run(database_url, tmp_path, "sla", "--from", "2024-05-01", "--to", "2024-05-31", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["timezone"] == "Europe/Amsterdam"
    by_kind = {c["kind"]: c for c in report["contacts"]}
    assert set(by_kind) == {"callback", "email_reply"}
    callback, reply = by_kind["callback"], by_kind["email_reply"]
    assert (callback["status"], callback["agent"]) == ("met", "Alice")
    # The holiday is not counted: the hour ran from Friday 09:00, 40 minutes of it used.
    assert callback["deadline"] == "2024-05-10T10:00:00+02:00"
    assert callback["working_seconds_left"] == 20 * 60
    assert (reply["status"], reply["agent"], reply["team"]) == ("breached", "Bob", "South")
    assert reply["working_seconds_left"] == (6 - 14) * 3600
    assert {t["team"]: (t["met"], t["breached"]) for t in report["teams"]} == {
        "North": (1, 0),
        "South": (0, 1),
    }


def test_table_filters_and_errors(db: Database, database_url: str, tmp_path: Path, stored: None) -> None:
    table = run(database_url, tmp_path, "sla", "--from", "2024-05-01", "--to", "2024-05-31")
    assert table.exit_code == 0
    lines = table.output.splitlines()
    assert "times in Europe/Amsterdam" in lines[0]
    assert lines[lines.index("Breached (1)") + 1].split()[0] == "e-mail"
    assert "20 min to spare" in table.output and "8 h 00 min late" in table.output
    south = run(
        database_url, tmp_path, "sla", "--team", "South", "--from", "2024-05-01", "--to", "2024-05-31"
    )
    assert "Met (0)" in south.output and "Breached (1)" in south.output
    empty = run(database_url, tmp_path, "sla")  # the last 30 days: none of 2024's contacts
    assert "Breached (0)" in empty.output and "Met (0)" in empty.output
    unknown = run(database_url, tmp_path, "sla", "--agent", "Nobody")
    assert unknown.exit_code == 1 and unknown.output.startswith("error: there is no PBX agent 'Nobody'")
    assert len(unknown.output.strip().splitlines()) == 1
    with read_scope(db) as session:
        audits = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "response_targets_viewed")
        ).all()
    assert [a.username for a in audits] == [COMMAND_LINE] * 3  # the refused one read nothing
    assert audits[1].details["team"] == "South" and audits[1].details["breached"] == 1
