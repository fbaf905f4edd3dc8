"""Contact reasons in the review app through Streamlit's AppTest on a real SQLite file: an agent
accepts the suggestion on the call page and corrects one in the customer's history; the admin writes
rules (a bad one refused in one line) and sees label counts and the model's measured accuracy."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from earshot.reason_classifier import train
from earshot.settings import Settings
from review_app.context import CallRequest, CustomerRequest
from review_app.safe_text import md
from storage.contact_reasons import add_rule, call_conversation, define_label, labelling_of
from storage.db import read_scope
from storage.models import Thread
from tests.app.app_data import AppData, open_data
from tests.app.test_pages import _signed_in
from tests.unit.storage.test_contact_reasons import add_labelled_chats


@pytest.fixture(scope="module")
def reasons_data(app_data: AppData) -> AppData:
    """The app's data with an admin's rules: the call and the chats speak of a refund."""
    db, _, _ = open_data(app_data.data_dir)
    try:
        add_rule(db, None, "reason", "billing", '"charged twice" OR refund*')
        add_rule(db, None, "outcome", "resolved", '"refund was sent"')
        define_label(db, None, "reason", "technical fault")
        define_label(db, None, "outcome", "follow-up needed")
    finally:
        db.engine.dispose()
    return app_data


def _captions(at: AppTest) -> str:
    return "\n".join(c.value for c in at.caption)


def test_agent_accepts_the_suggested_reason_on_the_call_page(reasons_data: AppData) -> None:
    at = _signed_in("agent")
    at.session_state["call_request"] = CallRequest(reasons_data.recording_id, None, 1)
    at.switch_page("views/call.py")
    at.run()
    assert not at.exception, at.exception
    assert "Reason" in [t.label for t in at.tabs]
    assert "Reason: **billing** :gray[suggested by rule" in _captions(at)
    db, _, _ = open_data(reasons_data.data_dir)
    thread_id = call_conversation(db, reasons_data.recording_id)
    key = f"reasons-call-{thread_id}"
    assert at.selectbox(key=f"{key}-reason").value == "billing"  # the suggestion, ready to accept
    at.selectbox(key=f"{key}-outcome").set_value("follow-up needed")
    at.button(key=f"FormSubmitter:{key}-Accept").click()
    at.run()
    assert not at.exception, at.exception
    try:
        chosen = labelling_of(db, None, thread_id)
    finally:
        db.engine.dispose()
    assert chosen is not None and (chosen.reason, chosen.outcome) == ("billing", "follow-up needed")
    assert chosen.labelled_by == "agent@example.com"
    assert f"Reason: **billing** :gray[(labelled by {md('agent@example.com')})]" in _captions(at)


def test_agent_corrects_a_chat_in_the_customer_history(reasons_data: AppData) -> None:
    db, _, _ = open_data(reasons_data.data_dir)
    try:
        with read_scope(db) as session:
            chat = session.scalars(
                select(Thread.id).where(
                    Thread.customer_id == reasons_data.customer_id, Thread.channel == "chat"
                )
            ).first()
        assert chat is not None
        at = _signed_in("agent")
        at.session_state["customer_request"] = CustomerRequest(reasons_data.customer_id, chat)
        at.switch_page("views/customer.py")
        at.run()
        assert not at.exception, at.exception
        assert "Outcome: **resolved** :gray[suggested by rule" in _captions(at)
        key = f"reasons-opened-{chat}"
        at.selectbox(key=f"{key}-reason").set_value("technical fault")  # a correction
        at.button(key=f"FormSubmitter:{key}-Accept").click()
        at.run()
        assert not at.exception, at.exception
        chosen = labelling_of(db, None, chat)
    finally:
        db.engine.dispose()
    assert chosen is not None and (chosen.reason, chosen.outcome) == ("technical fault", "resolved")
    assert (chosen.suggested_reason, chosen.suggested_outcome) == ("billing", "resolved")


def test_admin_writes_rules_and_sees_counts_and_the_models_accuracy(reasons_data: AppData) -> None:
    at = _signed_in("admin")
    at.switch_page("views/admin.py")
    at.run()
    assert "Reason: suggested by the rules" in _captions(at)
    label, query = at.text_input[-2], at.text_input[-1]
    label.input("cancellation")
    query.input("NEAR(cancel")
    at.button(key="FormSubmitter:reasons-add-Add rule").click()
    at.run()
    [error] = [e.value for e in at.error]
    assert "is not a valid search" in error and "\n" not in error
    at.text_input[-1].input("cancel* OR terminate")
    at.button(key="FormSubmitter:reasons-add-Add rule").click()
    at.run()
    assert not at.error, [e.value for e in at.error]
    [labels, rules] = [d.value for d in at.dataframe if "Label" in d.value.columns]
    assert "cancellation" in set(rules["Label"]) and "cancel* OR terminate" in set(rules["Search"])
    counts = {(row.Set, row.Label): row.Labelled for row in labels.itertuples()}
    assert counts[("reason", "cancellation")] == 0

    db, _, _ = open_data(reasons_data.data_dir)
    try:
        add_labelled_chats(db, per_label=5, batch="page")
        train(db, Settings(data_dir=reasons_data.data_dir, database_url=reasons_data.database_url), "reason")
    finally:
        db.engine.dispose()
    at.run()
    [model] = [c for c in _captions(at).splitlines() if c.startswith("Reason: suggested by model v1")]
    # The accuracy as measured (the agent's labels above join the synthetic chats when run together).
    found = re.search(r"cross-validated accuracy \*\*(\d+)%\*\* \(\d folds over (\d+) labelled", model)
    assert found is not None and 0 <= int(found.group(1)) <= 100 and int(found.group(2)) >= 10
