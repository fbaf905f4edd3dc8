"""Channel and agent figures (``storage.channel_figures``) on SQLite and PostgreSQL, on constructed
contacts whose figures are known: counts, means and per-day and per-week groups, the organisation's
days across a daylight-saving change, survey scores, filters, the role check and the audit row."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from storage.access import Principal
from storage.audit import list_audit
from storage.channel_figures import NO_AGENT, FigureRequest, FigureRow, channel_figures
from storage.db import Database, session_scope
from storage.errors import InvalidValue, PermissionDenied
from storage.models import Agent, Message, Recording, SurveyResponse, Thread

MONDAY = datetime(2026, 11, 2, 9, tzinfo=UTC)
PERIOD = FigureRequest(start=MONDAY - timedelta(hours=9), end=MONDAY + timedelta(days=7))


def _thread(session: Session, agent: Agent | None, channel: str, at: datetime) -> Thread:
    thread = Thread(
        agent=agent,
        channel=channel,
        provider="test",
        provider_id=f"{channel}-{at.isoformat()}",
        started_at=at,
    )
    session.add(thread)
    return thread


def _call(session: Session, agent: Agent | None, at: datetime, seconds: float) -> Thread:
    thread = _thread(session, agent, "call", at)
    session.add(
        Recording(
            thread=thread,
            sha256=f"{at.timestamp():064.0f}",
            original_name="call.wav",
            format="WAV",
            size_bytes=1,
            duration=seconds,
            sample_rate=8000,
            channels=2,
        )
    )
    return thread


def _messages(session: Session, thread: Thread, *steps: tuple[str, int]) -> None:
    """Messages ``(direction, seconds after the thread started)``."""
    assert thread.started_at is not None
    for number, (direction, after) in enumerate(steps):
        session.add(
            Message(
                thread=thread,
                provider_message_id=f"m{number}",
                direction=direction,
                sent_at=thread.started_at + timedelta(seconds=after),
                body="text",
            )
        )


def _answers(session: Session, thread: Thread, kind: str, *scores: float) -> None:
    session.flush()
    assert thread.started_at is not None
    for score in scores:
        session.add(
            SurveyResponse(
                source="test",
                response_id=f"{thread.provider_id}-{kind}-{score}",
                thread_id=thread.id,
                kind=kind,
                score=score,
                answered_at=thread.started_at + timedelta(hours=1),
            )
        )


@pytest.fixture
def contacts(db: Database) -> None:
    """Monday: Alice's two calls (300 s, 100 s; CSAT 4 and 2). Tuesday: Alice's chat (answered after
    120 s, her last reply at 600 s; NPS 10, 9, 3, 7), Bob's e-mail (answered after 2 h, the customer's
    last word at 3 h), a WhatsApp nobody answered (one inbound message), Bob's outbound e-mail."""
    with session_scope(db) as session:
        alice, bob = Agent(name="Alice"), Agent(name="Bob")
        first = _call(session, alice, MONDAY, 300)
        _call(session, alice, MONDAY + timedelta(hours=2), 100)
        _answers(session, first, "csat", 4, 2)
        tuesday = MONDAY + timedelta(days=1)
        chat = _thread(session, alice, "chat", tuesday)
        _messages(session, chat, ("inbound", 0), ("outbound", 120), ("inbound", 300), ("outbound", 600))
        _answers(session, chat, "nps", 10, 9, 3, 7)
        mail = _thread(session, bob, "email", tuesday)
        _messages(session, mail, ("inbound", 0), ("outbound", 7200), ("inbound", 10800))
        whatsapp = _thread(session, None, "whatsapp", tuesday)
        _messages(session, whatsapp, ("inbound", 0))
        sent = _thread(session, bob, "email", tuesday + timedelta(hours=1))
        _messages(session, sent, ("outbound", 0), ("inbound", 900))
        _thread(session, alice, "call", MONDAY + timedelta(days=8))  # after the period


def _row(rows: tuple[FigureRow, ...], group: str, bucket: date | None = None) -> FigureRow:
    return next(row for row in rows if row.group == group and row.bucket == bucket)


def test_figures_per_channel_and_day(db: Database, contacts: None) -> None:
    figures = channel_figures(db, None, PERIOD)
    assert [(row.bucket, row.group) for row in figures.rows] == [
        (date(2026, 11, 2), "call"),
        (date(2026, 11, 3), "chat"),
        (date(2026, 11, 3), "email"),
        (date(2026, 11, 3), "whatsapp"),
    ]
    calls = _row(figures.rows, "call", date(2026, 11, 2))
    assert (calls.contacts, calls.handle_time, calls.resolution, calls.first_response) == (2, 200, 200, None)
    assert (calls.csat, calls.survey_answers, calls.nps) == (3, 2, None)
    chat = _row(figures.rows, "chat", date(2026, 11, 3))
    assert (chat.contacts, chat.handle_time, chat.first_response, chat.resolution) == (1, 600, 120, 600)
    assert chat.nps == pytest.approx(25)  # 2 promoters, 1 detractor of 4
    mail = _row(figures.rows, "email", date(2026, 11, 3))
    # The inbound-first mail is answered after 2 h; the outbound one (Bob wrote first) has no first
    # response and a handle time of 0 (his only reply opened it).
    assert (mail.contacts, mail.first_response) == (2, 7200)
    assert mail.handle_time == pytest.approx((7200 + 0) / 2)
    assert mail.resolution == pytest.approx((10800 + 900) / 2)
    unanswered = _row(figures.rows, "whatsapp", date(2026, 11, 3))
    assert (unanswered.handle_time, unanswered.first_response, unanswered.resolution) == (None, None, 0)
    assert [(row.group, row.contacts) for row in figures.totals] == [
        ("call", 2),
        ("email", 2),
        ("chat", 1),
        ("whatsapp", 1),
    ]


def test_figures_per_agent_and_week(db: Database, contacts: None) -> None:
    figures = channel_figures(db, None, FigureRequest(PERIOD.start, PERIOD.end, by="agent", per="week"))
    assert {row.bucket for row in figures.rows} == {date(2026, 11, 2)}  # the week's Monday
    alice = _row(figures.totals, "Alice")
    assert alice.contacts == 3
    assert alice.handle_time == pytest.approx((300 + 100 + 600) / 3)
    assert alice.first_response == 120
    assert (alice.csat, alice.nps, alice.survey_answers) == (3, pytest.approx(25), 6)
    assert _row(figures.totals, "Bob").contacts == 2
    assert _row(figures.totals, NO_AGENT).contacts == 1


def test_filters_keep_one_channel_or_agent(db: Database, contacts: None) -> None:
    chats = channel_figures(db, None, FigureRequest(PERIOD.start, PERIOD.end, channel="chat"))
    assert [(row.group, row.contacts) for row in chats.totals] == [("chat", 1)]
    with session_scope(db) as session:
        bob = session.query(Agent).filter_by(name="Bob").one().id
    bobs = channel_figures(db, None, FigureRequest(PERIOD.start, PERIOD.end, agent_id=bob))
    assert [(row.group, row.contacts) for row in bobs.totals] == [("email", 2)]


def test_days_begin_at_local_midnight_across_a_clock_change(db: Database) -> None:
    """Amsterdam leaves summer time on 25 October 2026: 22:30 UTC is 00:30 the next day on either side."""
    with session_scope(db) as session:
        _call(session, None, datetime(2026, 10, 24, 22, 30, tzinfo=UTC), 60)  # 00:30 CEST, 25 Oct
        _call(session, None, datetime(2026, 10, 25, 23, 30, tzinfo=UTC), 60)  # 00:30 CET, 26 Oct
        _call(session, None, datetime(2026, 10, 26, 22, 59, tzinfo=UTC), 60)  # 23:59 CET, 26 Oct
    request = FigureRequest(
        datetime(2026, 10, 20, tzinfo=UTC), datetime(2026, 10, 30, tzinfo=UTC), zone="Europe/Amsterdam"
    )
    figures = channel_figures(db, None, request)
    assert [(row.bucket, row.contacts) for row in figures.rows] == [
        (date(2026, 10, 25), 1),
        (date(2026, 10, 26), 2),
    ]


def test_role_checked_period_checked_and_read_audited(
    db: Database, contacts: None, people: dict[str, Principal]
) -> None:
    with pytest.raises(PermissionDenied):
        channel_figures(db, people["agent"], PERIOD)
    with pytest.raises(InvalidValue):
        channel_figures(db, people["coach"], FigureRequest(PERIOD.end, PERIOD.start))
    channel_figures(db, people["coach"], PERIOD)
    rows = [row for row in list_audit(db, people["admin"]) if row.action == "figures_viewed"]
    assert [row.username for row in rows] == ["coach@example.com"]
    assert rows[0].details["by"] == "channel"
