"""Survey import (``storage.survey_import``) on SQLite and PostgreSQL: CSV and JSON, the contact found
by its id, e-mail, phone number or customer number and time (the customer's conversation nearest
before the answer, on its channel), one line per bad row with the rest imported, idempotent re-import."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from storage.access import Principal
from storage.blobs import BlobStore
from storage.db import Database, session_scope
from storage.erasure import erase_customer
from storage.models import Customer, Identity, SurveyResponse, Thread
from storage.survey_answers import answers_of_call, answers_of_conversations
from storage.survey_import import import_surveys, read_surveys

DAY = datetime(2026, 11, 2, 9, tzinfo=UTC)
UTC_ZONE = ZoneInfo("UTC")
HEADER = "response_id,source,kind,score,answered_at,channel,contact_id,email,phone,customer_number,comment\n"


@pytest.fixture
def emma(db: Database) -> dict[str, int]:
    """Emma (e-mail, phone, customer number): a call on day 0, a chat on day 1, a call on day 3."""
    with session_scope(db) as session:
        emma = Customer(display_name="Emma")
        for kind, value in (
            ("email", "emma@example.com"),
            ("phone", "+442079460958"),
            ("customer_number", "C-7"),
        ):
            session.add(Identity(customer=emma, kind=kind, value=value, raw_value=value))
        threads = {}
        for name, channel, day in (("call0", "call", 0), ("chat1", "chat", 1), ("call3", "call", 3)):
            threads[name] = Thread(
                customer=emma,
                channel=channel,
                provider="test",
                provider_id=name,
                started_at=DAY + timedelta(days=day),
            )
            session.add(threads[name])
        session.flush()
        return {name: thread.id for name, thread in threads.items()}


def _stored(db: Database) -> dict[str, tuple[int, str, float]]:
    with session_scope(db) as session:
        rows = session.execute(select(SurveyResponse)).scalars()
        return {row.response_id: (row.thread_id, row.kind, row.score) for row in rows}


def test_csv_rows_matched_bad_rows_reported_and_reimport_idempotent(
    db: Database, emma: dict[str, int], tmp_path: Path, people: dict[str, Principal]
) -> None:
    path = tmp_path / "answers.csv"
    path.write_text(
        HEADER
        + "r1,tool,csat,5,2026-11-02T12:00:00+00:00,call,,EMMA@example.com,,,Quick and kind\n"
        + "r2,tool,nps,9,2026-11-05T10:00:00Z,call,,,020 7946 0958,,\n"  # nearest call before: day 3
        + "r3,tool,ces,2,2026-11-02T10:00:00,,,,,C-7,\n"  # any channel: the day-0 call
        + f"r4,tool,csat,4,2026-11-05T10:00:00,,{emma['chat1']},,,,\n"
        + "r5,tool,csat,7,2026-11-02T12:00:00,call,,emma@example.com,,,\n"  # outside 1-5
        + "r6,tool,stars,3,2026-11-02T12:00:00,call,,emma@example.com,,,\n"  # unknown kind
        + "r7,tool,csat,good,2026-11-02T12:00:00,call,,emma@example.com,,,\n"  # not a number
        + "r8,tool,csat,3,yesterday,call,,emma@example.com,,,\n"  # not a time
        + "r9,tool,csat,3,2026-11-02T12:00:00,call,,nobody@example.com,,,\n"  # unknown contact
        + "r10,tool,csat,3,2026-11-01T12:00:00,call,,emma@example.com,,,\n"  # before any call
        + "r11,tool,csat,3,2026-11-02T12:00:00,,,,,,\n"  # names no contact
        + "r12,tool,csat,3,2026-11-02T12:00:00,email,,emma@example.com,,,\n",  # no e-mail thread
        encoding="utf-8",
    )
    rows, problems = read_surveys([path], None, UTC_ZONE)
    summary = import_surveys(db, rows, "GB")
    assert summary.imported == 4
    all_problems = problems + list(summary.problems)
    assert len(all_problems) == 8
    assert all(line.startswith("answers.csv:") and "\n" not in line for line in all_problems)
    assert any("outside 1-5" in line for line in all_problems)
    assert any("no customer with email 'nobody@example.com'" in line for line in all_problems)
    assert _stored(db) == {
        "r1": (emma["call0"], "csat", 5),
        "r2": (emma["call3"], "nps", 9),
        "r3": (emma["call0"], "ces", 2),
        "r4": (emma["chat1"], "csat", 4),
    }
    again = import_surveys(db, read_surveys([path], "csv", UTC_ZONE)[0], "GB")
    assert (again.imported, again.already_stored) == (0, 4)
    assert len(_stored(db)) == 4
    answers = answers_of_conversations(db, people["agent"], [emma["call0"], emma["chat1"]])
    assert [(a.kind, a.score, a.comment) for a in answers[emma["call0"]]] == [
        ("ces", 2, None),
        ("csat", 5, "Quick and kind"),
    ]
    assert [a.score for a in answers[emma["chat1"]]] == [4]
    assert answers_of_call(db, people["agent"], 999999) == ()


def test_json_rows_without_ids_are_keyed_by_their_contents(
    db: Database, emma: dict[str, int], tmp_path: Path
) -> None:
    path = tmp_path / "export.json"
    answers = [
        {"kind": "NPS", "score": 10, "answered_at": "2026-11-03T12:00:00+01:00", "phone": "+44 20 7946 0958"},
        {"kind": "csat", "score": 3, "answered_at": "2026-11-02T15:00:00+00:00", "contact_id": emma["call0"]},
        {"kind": "csat", "score": 3, "answered_at": "2026-11-02T15:00:00+00:00", "contact_id": 999999},
        "not an object",
    ]
    path.write_text(json.dumps({"responses": answers}), encoding="utf-8")
    rows, problems = read_surveys([path], "json", UTC_ZONE)
    assert problems == ["export.json:4: kind '(empty)' is not one of csat, nps, ces"]
    summary = import_surveys(db, rows, "GB")
    assert summary.imported == 2
    assert summary.problems == ("export.json:3: no conversation 999999",)
    stored = sorted(_stored(db).values())
    assert stored == sorted([(emma["chat1"], "nps", 10), (emma["call0"], "csat", 3)])
    assert import_surveys(db, read_surveys([path], "json", UTC_ZONE)[0], "GB").already_stored == 2


def test_unreadable_file_reported_and_naive_times_read_in_the_zone(
    db: Database, emma: dict[str, int], tmp_path: Path
) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    good = tmp_path / "good.csv"
    # 09:30 in New York is 14:30 UTC on day 1: after the chat started (09:00 UTC).
    good.write_text(HEADER + "x1,,csat,5,2026-11-03T09:30:00,chat,,emma@example.com,,,\n", encoding="utf-8")
    rows, problems = read_surveys([broken, good], None, ZoneInfo("America/New_York"))
    assert len(problems) == 1 and problems[0].startswith(f"{broken}: cannot be read")
    assert import_surveys(db, rows, "GB").imported == 1
    assert _stored(db) == {"x1": (emma["chat1"], "csat", 5)}


def test_answers_go_with_an_erased_customer(
    db: Database, emma: dict[str, int], tmp_path: Path, blobs: BlobStore
) -> None:
    path = tmp_path / "answers.csv"
    path.write_text(
        HEADER + "e1,,csat,5,2026-11-02T12:00:00Z,,,emma@example.com,,,Kind words\n", encoding="utf-8"
    )
    assert import_surveys(db, read_surveys([path], "csv", UTC_ZONE)[0], "GB").imported == 1
    with session_scope(db) as session:
        customer = session.scalar(select(Thread.customer_id).where(Thread.id == emma["call0"]))
    erase_customer(db, blobs, None, customer, dry_run=False)
    assert _stored(db) == {}  # ON DELETE CASCADE from the conversation: the comment is gone too
