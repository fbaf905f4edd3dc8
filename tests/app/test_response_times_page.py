"""The Response times page through Streamlit's AppTest, signed in through the real form: a missed
call called back in time and an e-mail answered late show as met and breached, for the agent who
handled them and for a coach; the report is read (and audited) once per choice."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import delete

from storage.audit import list_audit
from storage.db import session_scope
from storage.models import Agent, Customer, Message, Thread
from tests.app.app_data import AppData, open_data
from tests.app.test_pages import _open, _principal, _signed_in

# Monday 16 November 2026 (no Dutch holiday), 10:00 UTC; the app's zone is UTC.
MONDAY = datetime(2026, 11, 16, 10, tzinfo=UTC)


def add_contacts(db, monday: datetime = MONDAY) -> list[int]:  # type: ignore[no-untyped-def]
    """Alice calls back a missed call after 20 minutes and answers an e-mail two days later: a
    Monday at 10:00 (UTC) with no holiday that week."""
    with session_scope(db) as session:
        alice = session.query(Agent).filter_by(name="Alice").one()
        customer = Customer(display_name="Ruth <b>Waits</b>")
        missed = Thread(
            customer=customer, channel="call", provider="sla-test", provider_id="missed",
            direction="inbound", started_at=monday, disposition="busy",
        )  # fmt: skip
        callback = Thread(
            customer=customer, agent=alice, channel="call", provider="sla-test", provider_id="callback",
            direction="outbound", started_at=monday.replace(minute=20),
        )  # fmt: skip
        mail = Thread(
            customer=customer, agent=alice, channel="email", provider="sla-test", provider_id="mail",
            subject="Where is my refund?", started_at=monday,
        )  # fmt: skip
        mail.messages += [
            Message(provider_message_id="q", direction="inbound", sent_at=monday, body="?"),
            Message(
                provider_message_id="a", direction="outbound", sent_at=monday + timedelta(days=2), body="!"
            ),
        ]
        session.add_all([missed, callback, mail])
        session.flush()
        return [missed.id, callback.id, mail.id]


def _remove(db, ids: list[int]) -> None:  # type: ignore[no-untyped-def]
    with session_scope(db) as session:
        session.execute(delete(Message).where(Message.thread_id.in_(ids)))
        customer_ids = {t.customer_id for t in session.query(Thread).filter(Thread.id.in_(ids))}
        session.execute(delete(Thread).where(Thread.id.in_(ids)))
        session.execute(delete(Customer).where(Customer.id.in_(customer_ids)))


def _frames(at) -> list:  # type: ignore[no-untyped-def]
    return [frame.value for frame in at.dataframe]


def test_met_and_breached_for_the_agent_and_the_coach(app_data: AppData) -> None:
    started = datetime.now(UTC)
    db, _, _ = open_data(app_data.data_dir)
    ids = add_contacts(db)
    try:
        for role in ("agent", "coach"):
            at = _open(_signed_in(role), "views/response_times.py")
            assert [t.value for t in at.title] == ["Response times"]
            at.date_input(key="sla.from").set_value(date(2026, 11, 16))
            at.date_input(key="sla.to").set_value(date(2026, 11, 20))
            at.run()
            assert not at.exception, at.exception
            metrics = {m.label: m.value for m in at.metric}
            assert metrics["Met"] == "1" and metrics["Breached"] == "1"
            assert any("(UTC)" in c.value and "working time" in c.value for c in at.caption)
            contacts = [f for f in _frames(at) if "Clock (working time)" in f.columns]
            met = next(f for f in contacts if "Callback" in set(f["What"]))
            assert list(met["Agent"]) == ["Alice"] and list(met["Customer"]) == ["Ruth <b>Waits</b>"]
            late = next(f for f in contacts if "E-mail reply" in set(f["What"]))
            assert late["Clock (working time)"][0].endswith("late")
            agents = next(f for f in _frames(at) if "Agent" in f.columns and "Met" in f.columns)
            assert dict(zip(agents["Agent"], agents["Met"], strict=True))["Alice"] == 1
            at.run()  # a rerun reads and logs nothing again
        admin = _principal(db, "admin@example.com")
        viewed = list_audit(db, admin, action="response_targets_viewed", since=started)
    finally:
        _remove(db, ids)
        db.engine.dispose()
    # Per user: the default period once, the chosen days once; the reruns read nothing.
    assert sorted(r.username for r in viewed) == ["agent@example.com"] * 2 + ["coach@example.com"] * 2
