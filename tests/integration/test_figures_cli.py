"""``earshot import-surveys`` and ``earshot figures`` on SQLite and PostgreSQL: a survey export
imported (bad rows printed one line each, exit status 1, the rest stored; a re-run changes nothing),
then the figures as a table and as JSON, per channel and per agent."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from earshot.cli import main
from storage.db import Database, session_scope
from storage.models import Agent, Customer, Identity, Message, Thread

DAY = datetime(2026, 11, 2, 9, tzinfo=UTC)


@pytest.fixture
def emma(db: Database) -> None:
    """Emma (emma@example.com): a chat with Alice answered after 5 minutes, an e-mail with Bob."""
    with session_scope(db) as session:
        alice, bob = Agent(name="Alice"), Agent(name="Bob")
        emma = Customer(display_name="Emma Stone")
        session.add(
            Identity(customer=emma, kind="email", value="emma@example.com", raw_value="emma@example.com")
        )
        chat = Thread(
            customer=emma, agent=alice, channel="chat", provider="t", provider_id="1", started_at=DAY
        )
        mail = Thread(
            customer=emma,
            agent=bob,
            channel="email",
            provider="t",
            provider_id="2",
            started_at=DAY + timedelta(1),
        )
        for thread, number, direction, after in ((chat, "a", "inbound", 0), (chat, "b", "outbound", 300)):
            session.add(
                Message(
                    thread=thread,
                    provider_message_id=number,
                    direction=direction,
                    sent_at=DAY + timedelta(seconds=after),
                    body="hello",
                )
            )
        session.add(mail)


def run(database_url: str, tmp_path: Path, *args: str) -> Result:
    return CliRunner(env={"EARSHOT_DATABASE_URL": database_url, "EARSHOT_TIMEZONE": "UTC"}).invoke(
        main, ["--data-dir", str(tmp_path / "data"), *args], catch_exceptions=False
    )


def test_import_surveys_then_figures(database_url: str, tmp_path: Path, emma: None) -> None:
    export = tmp_path / "answers.csv"
    export.write_text(
        "response_id,kind,score,answered_at,channel,email\n"
        "1,csat,5,2026-11-02T10:00:00Z,chat,emma@example.com\n"
        "2,nps,10,2026-11-03T10:00:00Z,email,emma@example.com\n"
        "3,csat,9,2026-11-02T10:00:00Z,chat,emma@example.com\n"
        "4,csat,4,2026-11-02T10:00:00Z,chat,someone@example.com\n",
        encoding="utf-8",
    )
    result = run(database_url, tmp_path, "import-surveys", str(export))
    assert result.exit_code == 1
    assert "answers.csv:4: csat score 9 is outside 1-5" in result.output
    assert "answers.csv:5: no customer with email 'someone@example.com'" in result.output
    assert "2 survey answer(s) imported, 0 already stored, 2 left out" in result.stderr
    again = run(database_url, tmp_path, "import-surveys", "--format", "csv", str(export))
    assert "0 survey answer(s) imported, 2 already stored" in again.stderr

    table = run(database_url, tmp_path, "figures", "--from", "2026-11-01", "--to", "2026-11-07")
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    assert any(line.startswith("2026-11-02") and " chat " in line and "05:00" in line for line in lines)
    assert sum(line.startswith("total") for line in lines) == 2

    as_json = run(
        database_url,
        tmp_path,
        "figures",
        "--by",
        "agent",
        "--per",
        "week",
        "--from",
        "2026-11-01",
        "--to",
        "2026-11-07",
        "--json",
    )
    data = json.loads(as_json.stdout)
    totals = {row["group"]: row for row in data["totals"]}
    assert totals["Alice"]["contacts"] == 1 and totals["Alice"]["first_response"] == 300
    assert totals["Alice"]["csat"] == 5
    assert totals["Bob"]["nps"] == 100
    assert {row["bucket"] for row in data["rows"]} == {"2026-11-02"}  # Monday and Tuesday: one week

    unknown = run(database_url, tmp_path, "figures", "--agent", "Nobody")
    assert unknown.exit_code == 1 and "no agent named 'Nobody'" in unknown.stderr
