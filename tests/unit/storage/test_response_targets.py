"""Response targets (``storage.response_targets``): waits found in e-mail threads and missed calls,
judged met / at risk / on track / breached against working time, on SQLite and PostgreSQL; who may
see which contacts; the audit row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TypedDict
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from recorder.types import MissedCall
from storage.audit import COMMAND_LINE, list_audit
from storage.business_hours import BusinessCalendar
from storage.db import Database, session_scope
from storage.errors import InvalidValue
from storage.missed_calls import store_missed_call
from storage.models import Agent, Customer, Message, Thread
from storage.response_targets import (
    ResponseTargets,
    Wait,
    classify,
    latest_wait,
    reply_waits,
    response_report,
)

AMS = ZoneInfo("Europe/Amsterdam")
HOUR = 3600.0
CALENDAR = BusinessCalendar.from_settings("Europe/Amsterdam", ("mon-fri 09:00-17:00",), "NL", None)
TARGETS = ResponseTargets()  # 6 working hours for an e-mail, 1 for a callback, at risk under 25 %
NOW = datetime(2024, 6, 13, 15, tzinfo=AMS)  # a Thursday afternoon; no Dutch holiday that fortnight


class Period(TypedDict):
    start: datetime
    end: datetime
    now: datetime


PERIOD: Period = {"start": NOW - timedelta(days=30), "end": NOW, "now": NOW}


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2024, 6, day, hour, minute, tzinfo=AMS).astimezone(UTC)


# --- waits and their judgement, on constructed values ---------------------------------------


def test_a_wait_runs_from_the_first_unanswered_inbound_message_to_the_next_reply():
    waits = reply_waits(
        [
            ("outbound", at(3, 9)),  # our newsletter: nobody waits for it
            ("inbound", at(3, 10)),
            ("inbound", at(3, 11)),  # a reminder before our reply: the same wait
            ("outbound", at(3, 12)),
            ("inbound", None),  # no time: left out
            ("inbound", at(4, 10)),
        ]
    )
    assert waits == [Wait(at(3, 10), at(3, 12)), Wait(at(4, 10), None)]


@pytest.mark.parametrize(
    ("since", "answered", "status"),
    [
        (at(11, 10), at(11, 14), "met"),  # 4 of 6 working hours
        (at(7, 15), at(10, 12), "met"),  # Friday 15:00 to Monday 12:00: 2 + 3 working hours
        (at(7, 15), at(11, 12), "breached"),  # over a weekend and a day: 13 working hours
        (at(13, 10), None, "at_risk"),  # 5 used at 15:00, 1 left: under a quarter of 6
        (at(13, 12), None, "on_track"),  # 3 used, 3 left
        (at(12, 9), None, "breached"),  # its deadline passed yesterday at 15:00
        (at(12, 18), None, "breached"),  # sent after closing: its clock ran from 09:00 today to 15:00
    ],
)
def test_judged_against_working_time(since: datetime, answered: datetime | None, status: str):
    judged = classify(Wait(since, answered), TARGETS.email_reply_s, TARGETS.at_risk_share, CALENDAR, NOW)
    assert judged.status == status
    assert judged.deadline >= since
    if answered is None and status != "breached":
        assert judged.left_s == CALENDAR.working_seconds(NOW, judged.deadline) > 0
    if status == "breached" and answered is not None:
        assert judged.left_s < 0
    if status == "met":
        assert 0 <= judged.left_s < TARGETS.email_reply_s


def test_an_evening_mail_is_due_the_next_working_day_and_overdue_counts_working_time():
    judged = classify(Wait(at(12, 18), None), 6 * HOUR, 0.25, CALENDAR, NOW)
    assert judged.deadline == at(13, 15)  # 09:00 + 6 working hours
    one_hour_on = classify(Wait(at(12, 18), None), 6 * HOUR, 0.25, CALENDAR, at(13, 16))
    assert one_hour_on.status == "breached" and one_hour_on.left_s == -HOUR
    next_morning = classify(Wait(at(12, 18), None), 6 * HOUR, 0.25, CALENDAR, at(14, 10))
    assert next_morning.left_s == -3 * HOUR  # 15:00-17:00 and 09:00-10:00; the night is not counted


# --- stored contacts, on both backends ------------------------------------------------------


def _mail(session: Session, customer: Customer, agent: Agent, *messages: tuple[str, datetime]) -> Thread:
    thread = Thread(
        customer=customer,
        agent=agent,
        channel="email",
        provider="test",
        provider_id=f"mail-{customer.display_name}-{messages[0][1].isoformat()}",
        subject=f"Question from {customer.display_name}",
        direction="inbound",
        started_at=messages[0][1],
    )
    for n, (direction, sent_at) in enumerate(messages):
        thread.messages.append(
            Message(
                provider_message_id=f"{thread.provider_id}-{n}",
                direction=direction,
                sent_at=sent_at,
                body=".",
            )
        )
    session.add(thread)
    return thread


def _call(
    session: Session,
    customer: Customer,
    agent: Agent | None,
    direction: str,
    when: datetime,
    disposition: str | None,
) -> Thread:
    thread = Thread(
        customer=customer,
        agent=agent,
        channel="call",
        provider="test",
        provider_id=f"call-{customer.display_name}-{when.isoformat()}",
        direction=direction,
        started_at=when,
        disposition=disposition,
    )
    session.add(thread)
    return thread


@pytest.fixture
def contacts(db: Database) -> dict[str, int]:
    with session_scope(db) as session:
        alice, bob = Agent(name="Alice", team="North"), Agent(name="Bob", team="South")
        emma, noah, lena = (Customer(display_name=n) for n in ("Emma", "Noah", "Lena"))
        threads = {
            "mail_met": _mail(session, emma, alice, ("inbound", at(11, 10)), ("outbound", at(11, 14))),
            "mail_late": _mail(session, noah, bob, ("inbound", at(7, 15)), ("outbound", at(11, 12))),
            "mail_at_risk": _mail(session, lena, alice, ("inbound", at(13, 10))),
            "mail_on_track": _mail(session, lena, bob, ("inbound", at(13, 14))),
            "missed_met": _call(session, emma, None, "inbound", at(12, 10), "no_answer"),
            "callback": _call(session, emma, alice, "outbound", at(12, 10, 30), None),
            "missed_busy": _call(session, noah, None, "inbound", at(12, 11), "busy"),
            # Noah tried again and gave up in the queue: that is no callback either.
            "missed_again": _call(session, noah, None, "inbound", at(12, 11, 20), "abandoned"),
            "missed_now": _call(session, lena, None, "inbound", at(13, 14, 30), "no_answer"),
            "too_old": _call(session, lena, None, "inbound", at(13, 14, 30) - timedelta(days=40), "busy"),
        }
        session.flush()
        return {name: thread.id for name, thread in threads.items()}


def _statuses(report) -> dict[int, str]:  # type: ignore[no-untyped-def]
    return {item.thread_id: item.status for item in report.items}


def test_every_wait_judged(db: Database, contacts: dict[str, int]) -> None:
    report = response_report(db, None, CALENDAR, TARGETS, **PERIOD)
    assert _statuses(report) == {
        contacts["mail_met"]: "met",
        contacts["mail_late"]: "breached",
        contacts["mail_at_risk"]: "at_risk",
        contacts["mail_on_track"]: "on_track",
        contacts["missed_met"]: "met",
        contacts["missed_busy"]: "breached",
        contacts["missed_again"]: "breached",
        contacts["missed_now"]: "on_track",  # 30 of 60 working minutes left
    }
    callback = next(item for item in report.items if item.thread_id == contacts["missed_met"])
    assert (callback.agent, callback.team, callback.answer_thread_id) == (
        "Alice",
        "North",
        contacts["callback"],
    )
    assert callback.answered_at == at(12, 10, 30)
    # The waiting come first, the most urgent of them first; answered ones last.
    waiting = [item.waiting for item in report.items]
    assert waiting == sorted(waiting, reverse=True)
    assert report.items[0].status == "breached" and report.items[0].waiting
    assert latest_wait(db, None) == at(13, 14, 30)  # Lena's missed call, the newest wait
    late = next(item for item in report.items if item.thread_id == contacts["mail_late"])
    assert late.left_s == pytest.approx(TARGETS.email_reply_s - 13 * HOUR)


def test_counted_per_agent_and_team(db: Database, contacts: dict[str, int]) -> None:
    report = response_report(db, None, CALENDAR, TARGETS, **PERIOD)
    by_agent = {group.name: group for group in report.by_agent()}
    assert by_agent["Alice"].count("met") == 2 and by_agent["Alice"].count("at_risk") == 1
    assert by_agent["Bob"].count("breached") == 1 and by_agent["Bob"].count("on_track") == 1
    assert by_agent[None].count("breached") == 2  # missed calls nobody called back
    assert sum(sum(group.counts) for group in report.by_team()) == len(report.items)


def test_filters_and_roles(db: Database, contacts: dict[str, int], people) -> None:  # type: ignore[no-untyped-def]
    south = response_report(db, None, CALENDAR, TARGETS, **PERIOD, team="South")
    assert set(_statuses(south)) == {contacts["mail_late"], contacts["mail_on_track"]}
    alice = response_report(db, None, CALENDAR, TARGETS, **PERIOD, agent="alice")
    assert {item.agent for item in alice.items} == {"Alice"} and len(alice.items) == 3
    # The agent account is linked to Alice: her own contacts, nothing unassigned, whatever it asks for.
    own = response_report(db, people["agent"], CALENDAR, TARGETS, **PERIOD)
    assert _statuses(own) == _statuses(alice)
    assert response_report(db, people["agent"], CALENDAR, TARGETS, **PERIOD, team="South").items == ()
    everything = response_report(db, people["coach"], CALENDAR, TARGETS, **PERIOD)
    assert len(everything.items) == 8
    with pytest.raises(InvalidValue, match="no PBX agent 'Nobody'"):
        response_report(db, None, CALENDAR, TARGETS, **PERIOD, agent="Nobody")
    with pytest.raises(InvalidValue, match="runs forwards"):
        response_report(db, None, CALENDAR, TARGETS, start=NOW, end=NOW - timedelta(days=1))
    with pytest.raises(InvalidValue, match="need a time zone"):
        response_report(db, None, CALENDAR, TARGETS, start=datetime(2024, 6, 1), end=datetime(2024, 6, 2))


def test_a_coach_in_a_team_sees_that_team_and_the_unassigned(
    db: Database, contacts: dict[str, int], people
) -> None:  # type: ignore[no-untyped-def]
    with session_scope(db) as session:
        coach_agent = Agent(name="Coach Kim", team="South")
        session.add(coach_agent)
        session.flush()
        coach = people["coach"].__class__(
            people["coach"].user_id, people["coach"].username, "coach", coach_agent.id
        )
    report = response_report(db, coach, CALENDAR, TARGETS, **PERIOD)
    assert {item.agent for item in report.items} == {"Bob", None}


def test_audited_with_counts_not_contacts(db: Database, contacts: dict[str, int], people) -> None:  # type: ignore[no-untyped-def]
    response_report(db, None, CALENDAR, TARGETS, **PERIOD, team="South")
    [row] = list_audit(db, people["compliance"], action="response_targets_viewed")
    assert row.username == COMMAND_LINE and row.target is None
    assert row.details == {
        "from": PERIOD["start"].astimezone(UTC).isoformat(),
        "to": NOW.astimezone(UTC).isoformat(),
        "agent": None,
        "team": "South",
        **{"breached": 1, "at_risk": 0, "on_track": 1, "met": 0},
    }


def test_a_missed_call_from_the_cdr_is_linked_and_stored_once(db: Database) -> None:
    call = MissedCall("1718280000.7", "06 1234 5678", "0205550100", at(13, 11), "no_answer", "Peter Smit")
    first = store_missed_call(db, call, default_region="NL")
    again = store_missed_call(db, call, default_region="NL")
    assert first.created and not again.created and again.thread_id == first.thread_id
    with session_scope(db) as session:
        thread = session.get(Thread, first.thread_id)
        assert thread is not None and thread.disposition == "no_answer" and thread.direction == "inbound"
        assert thread.customer is not None and thread.customer.display_name == "Peter Smit"
        assert [i.value for i in thread.customer.identities] == ["+31612345678"]
    report = response_report(db, None, CALENDAR, TARGETS, **PERIOD)
    [item] = report.items
    assert (item.kind, item.status, item.customer) == ("callback", "breached", "Peter Smit")


def test_a_missed_call_stored_with_its_recording_is_not_stored_again(db: Database) -> None:
    # FreePBX left a header-only recording of the call: the ingest stored it with the CDR's disposition.
    with session_scope(db) as session:
        recorded = Thread(
            channel="call", provider="earshot", provider_id="1718280000.9", direction="inbound",
            started_at=at(13, 11), disposition="no_answer",
        )  # fmt: skip
        session.add(recorded)
        session.flush()
        recorded_id = recorded.id
    call = MissedCall("1718280000.9", "06 1234 5678", None, at(13, 11), "no_answer")
    stored = store_missed_call(db, call, default_region="NL")
    assert (stored.thread_id, stored.created) == (recorded_id, False)
