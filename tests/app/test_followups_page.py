"""Follow-ups in the review app through Streamlit's AppTest, against a real SQLite file: added from a
conversation of the customer history, listed on My follow-ups overdue first, the customer's
follow-ups in their history, a coach choosing whose list, an agent refused anyone else's; audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from review_app.context import CustomerRequest
from review_app.safe_text import md
from storage import users
from storage.access import Principal
from storage.audit import list_audit
from storage.db import Database, read_scope
from storage.followups import add_followup, resolve_assignee
from storage.models import Thread
from tests.app.app_data import AppData, open_data
from tests.app.test_pages import _signed_in


def _chat_of_emma(app_data: AppData) -> int:
    db, _, _ = open_data(app_data.data_dir)
    try:
        with read_scope(db) as session:
            return session.scalars(
                select(Thread.id)
                .where(Thread.customer_id == app_data.customer_id, Thread.channel == "chat")
                .order_by(Thread.id)
                .limit(1)
            ).one()
    finally:
        db.engine.dispose()


def _compliance(db: Database) -> Principal:
    [user] = [u for u in users.list_users(db, actor=None) if u.username == "compliance@example.com"]
    return Principal(user.id, user.username, user.role, user.agent_id)


def test_an_agent_adds_a_follow_up_and_sees_it_overdue_first(app_data: AppData) -> None:
    started = datetime.now(UTC)
    chat = _chat_of_emma(app_data)
    db, _, _ = open_data(app_data.data_dir)
    try:
        # One already there for next week, added by a coach for the agent.
        agent = resolve_assignee(db, "agent@example.com")
        add_followup(db, None, chat, "Check the invoice next week", started + timedelta(days=7), agent)
    finally:
        db.engine.dispose()

    at = _signed_in("agent")
    at.session_state["customer_request"] = CustomerRequest(app_data.customer_id, chat)
    at.switch_page("views/customer.py")
    at.run()
    assert not at.exception, at.exception
    [what] = [t for t in at.text_input if t.label == "Follow-up"]
    what.input("Ring Emma back about the refund")
    [due] = [d for d in at.date_input if d.label == "Due"]
    due.set_value((started - timedelta(days=2)).date())
    at.button(key=f"FormSubmitter:opened-followup-{chat}-Add follow-up").click()
    at.run()
    assert not at.exception, at.exception
    # The customer's history lists both, the overdue one first.
    history = next(d.value for d in at.dataframe if "What" in d.value.columns)
    assert list(history["What"]) == ["Ring Emma back about the refund", "Check the invoice next week"]
    assert list(history["State"]) == ["Overdue", "Open"]

    at.switch_page("views/followups.py")
    at.run()
    assert not at.exception, at.exception
    assert [t.value for t in at.title] == ["My follow-ups"]
    assert at.selectbox.len == 0  # an agent sees only their own: no choice of whose
    assert _listed(at) == [
        (":red-badge[Overdue]", "Ring Emma back about the refund"),
        (":blue-badge[Open]", "Check the invoice next week"),
    ]
    assert all(md("Emma de Vries · Chat") in m.value for m in at.markdown if "-badge[" in m.value)
    assert any("2 follow-ups, 1 overdue" in c.value for c in at.caption)
    at.toggle(key="followups.overdue").set_value(True)
    at.run()
    assert _listed(at) == [(":red-badge[Overdue]", "Ring Emma back about the refund")]

    db, _, _ = open_data(app_data.data_dir)
    try:
        rows = list_audit(db, _compliance(db), username="agent@example.com", since=started)
    finally:
        db.engine.dispose()
    added = [r for r in rows if r.action == "follow_up_added"]
    assert [r.target for r in added] == [f"thread:{chat}"]
    assert not any("Ring Emma" in str(r.details) for r in rows)  # ids, never the text


def test_a_coach_chooses_whose_follow_ups(app_data: AppData) -> None:
    """After the agent's test: the coach has none of their own, and sees the agent's when chosen."""
    at = _signed_in("coach")
    at.switch_page("views/followups.py")
    at.run()
    assert not at.exception, at.exception
    assert [i.value for i in at.info] == ["Nothing to follow up."]
    whose = at.selectbox(key="followups.whose")
    assert whose.options[0] == "Mine" and whose.options[-1] == "Everyone"
    whose.select_index(whose.options.index("agent@example.com")).run()
    assert not at.exception, at.exception
    assert [badge for badge, _ in _listed(at)] == [":red-badge[Overdue]", ":blue-badge[Open]"]
    assert any(f"for {md('agent@example.com')}" in c.value for c in at.caption)
    # A coach may mark someone else's done: it leaves the open list.
    next(b for b in at.button if (b.key or "").startswith("followup-done-")).click().run()
    assert not at.exception, at.exception
    assert _listed(at) == [(":blue-badge[Open]", "Check the invoice next week")]


def _listed(at: AppTest) -> list[tuple[str, str]]:
    """My follow-ups as shown: (badge, what) per follow-up, in page order."""
    badges = [m.value.split(" ")[0] for m in at.markdown if "-badge[" in m.value]
    return list(zip(badges, [t.value for t in at.text], strict=True))
