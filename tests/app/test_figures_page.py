"""The Figures page and survey answers beside a contact, through Streamlit's AppTest against the app
tests' real SQLite file: a coach sees the chart and the totals, regroups by agent (read and audited
once per choice), an agent may not open it, and an imported CSAT answer shows on its call and in the
customer's history."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, select
from streamlit.testing.v1 import AppTest

from review_app.context import CallRequest, CustomerRequest
from storage.audit import list_audit
from storage.models import Recording, SurveyResponse
from storage.survey_import import import_surveys, read_surveys
from tests.app.app_data import AppData, open_data
from tests.app.conftest import APP
from tests.app.test_pages import _agent_principal, _open, _principal, _signed_in


def test_coach_sees_figures_regroups_and_is_audited_once_per_choice(app_data: AppData) -> None:
    started = datetime.now(UTC)
    at = _open(_signed_in("coach"), "views/figures.py")
    assert [t.value for t in at.title] == ["Figures"]
    charts = at.get("vega_lite_chart")
    assert len(charts) == 1
    [totals] = [d.value for d in at.dataframe]
    assert "Channel" in totals.columns and totals["Contacts"].sum() >= 1
    assert "Call" in set(totals["Channel"])

    at.selectbox(key="figures.by").set_value("agent")
    at.run()
    assert not at.exception, at.exception
    [by_agent] = [d.value for d in at.dataframe]
    assert "Alice" in set(by_agent["Agent"])
    at.radio(key="figures.measure").set_value("handle")
    at.run()  # another measure charts the same figures: nothing is read again
    assert not at.exception, at.exception
    db, _, _ = open_data(app_data.data_dir)
    try:
        admin = _principal(db, "admin@example.com")
        viewed = [r for r in list_audit(db, admin, username="coach@example.com", since=started)]
    finally:
        db.engine.dispose()
    assert [r.details["by"] for r in viewed if r.action == "figures_viewed"] == ["agent", "channel"]


def test_agent_may_not_open_figures(app_data: AppData) -> None:
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        _signed_in("agent").switch_page("views/figures.py")  # not in the agent's menu
    at = AppTest.from_file(str(APP.parent / "views" / "figures.py"), default_timeout=60)
    at.session_state["principal"] = _agent_principal(app_data)  # nor opened by its address
    at.run()
    assert [e.value for e in at.error] == ["Your role (agent) does not give access to this page."]
    assert not at.get("vega_lite_chart")


def test_survey_answer_shows_beside_its_call_and_in_the_history(app_data: AppData, tmp_path: Path) -> None:
    db, _, _ = open_data(app_data.data_dir)
    try:
        with db.sessionmaker() as session:
            thread_id = session.scalar(
                select(Recording.thread_id).where(Recording.id == app_data.recording_id)
            )
        export = tmp_path / "answers.csv"
        export.write_text(
            "response_id,kind,score,answered_at,contact_id,comment\n"
            f"app-1,csat,5,2030-01-01T00:00:00Z,{thread_id},Sorted in one call\n",
            encoding="utf-8",
        )
        rows, problems = read_surveys([export], "csv", ZoneInfo("UTC"))
        assert not problems
        assert import_surveys(db, rows, "GB").imported == 1
        at = _signed_in("coach")
        at.session_state["call_request"] = CallRequest(app_data.recording_id, 0.0, 1)
        _open(at, "views/call.py")
        assert any("CSAT 5/5" in m.value for m in at.markdown)
        assert "“Sorted in one call”" in [t.value for t in at.text]

        history = _signed_in("agent")  # the same conversation opened in the customer's history
        history.session_state["customer_request"] = CustomerRequest(app_data.customer_id, thread_id)
        history.run()
        assert not history.exception, history.exception
        assert any("CSAT 5/5" in m.value for m in history.markdown)
    finally:
        with db.sessionmaker() as session:
            session.execute(delete(SurveyResponse).where(SurveyResponse.response_id == "app-1"))
            session.commit()
        db.engine.dispose()
