"""Critical questions and comments on the pages (Streamlit's AppTest): the coach's scoring panel marks
critical questions and takes per-question and overall comments; the agent reads why an evaluation
auto-failed and the comments, as text. Its own module: it adds a form and an evaluation to the data."""

from __future__ import annotations

import pytest

from review_app.context import CallRequest
from storage import users
from storage.access import Principal
from storage.db import Database
from storage.quality import (
    AnswerInput,
    QuestionSpec,
    SectionSpec,
    acknowledge_evaluation,
    create_form,
    get_evaluation,
    list_forms,
    save_answers,
    start_evaluation,
    submit_evaluation,
)
from tests.app.app_data import AppData, open_data
from tests.app.test_pages import _open, _signed_in

# Outside text that would be markup if the page rendered it as such.
_OVERALL = "Good tone. <b>Verify</b> **first**, then [help](https://example.com)"


def _principal(db: Database, username: str) -> Principal:
    [user] = [u for u in users.list_users(db, actor=None) if u.username == username]
    return Principal(user.id, user.username, user.role, user.agent_id)


@pytest.fixture(scope="module")
def draft_id(app_data: AppData) -> int:
    """A form whose "Verifies identity" (yes/no) and "Solves the problem" (points) are critical, and
    the coach's draft on Emma's call with identity answered "no"."""
    db, _, _ = open_data(app_data.data_dir)
    try:
        form = create_form(
            db,
            _principal(db, "admin@example.com"),
            "Compliance check",
            [
                SectionSpec(
                    "Checks",
                    (
                        QuestionSpec("Greets by name"),
                        QuestionSpec("Verifies identity", critical=True),
                        QuestionSpec("Solves the problem", "points", max_points=5, critical=True),
                    ),
                )
            ],
        )
        coach = _principal(db, "coach@example.com")
        view = start_evaluation(db, coach, app_data.recording_id, form.id)
        greets, verifies, solves = (q.id for q in form.sections[0].questions)
        save_answers(
            db,
            coach,
            view.summary.id,
            {greets: AnswerInput("yes"), verifies: AnswerInput("no"), solves: AnswerInput("4")},  # type: ignore[dict-item]
        )
        return view.summary.id
    finally:
        db.engine.dispose()


def test_the_scoring_panel_marks_critical_questions_and_takes_comments(
    app_data: AppData, draft_id: int
) -> None:
    at = _signed_in("coach")
    at.session_state["call_request"] = CallRequest(app_data.recording_id, 0.0, 1)
    _open(at, "views/call.py")
    prefix = f"eval{draft_id}"
    assert "critical" in at.button_group(key=f"{prefix}q{_question_id(app_data, draft_id, 1)}").label
    [points] = [n for n in at.number_input if (n.key or "").startswith(prefix)]
    assert "critical" in points.label and points.help
    assert "Auto-fail: Verifies identity" in [e.value for e in at.error]
    comments = [t for t in at.text_input if (t.key or "").startswith(f"{prefix}c")]
    assert len(comments) == 3  # one per question
    comments[1].input("Skipped the date of birth")
    at.text_area(key=f"{prefix}overall").input(_OVERALL)
    at.button(key=f"{prefix}save").click()
    at.run()
    assert not at.exception, at.exception

    db, _, _ = open_data(app_data.data_dir)
    try:
        view = get_evaluation(db, _principal(db, "coach@example.com"), draft_id)
    finally:
        db.engine.dispose()
    assert view.summary.coach_comment == _OVERALL
    assert view.summary.score == 0.0 and [q.text for q in view.auto_fail] == ["Verifies identity"]
    verifies = _question_id(app_data, draft_id, 1)
    assert view.answers[verifies] == AnswerInput("no", "Skipped the date of birth")


def test_the_agent_reads_why_it_auto_failed_and_the_comments_as_text(
    app_data: AppData, draft_id: int
) -> None:
    db, _, _ = open_data(app_data.data_dir)
    try:
        coach = _principal(db, "coach@example.com")
        verifies = _question_id(app_data, draft_id, 1)
        save_answers(
            db,
            coach,
            draft_id,
            {verifies: AnswerInput("no", "<i>No</i> date of birth")},
            coach_comment=_OVERALL,
        )
        submit_evaluation(db, coach, draft_id)
        acknowledge_evaluation(db, _principal(db, "agent@example.com"), draft_id, "Understood")
    finally:
        db.engine.dispose()
    at = _signed_in("agent")
    at.session_state["quality.evaluation"] = draft_id  # as a link to it does
    _open(at, "views/quality.py")
    assert "Auto-fail: Verifies identity" in [e.value for e in at.error]
    texts = [t.value for t in at.text]
    assert _OVERALL in texts and "Understood" in texts  # verbatim, as text: no markup rendered
    assert not any("<b>" in m.value or "<i>" in m.value for m in at.markdown)
    [answers] = [d.value for d in at.dataframe if "Comment" in d.value.columns]
    row = answers[answers["Question"] == "Verifies identity"].iloc[0]
    assert (row["Critical"], row["Answer"], row["Comment"]) == (True, "No", "<i>No</i> date of birth")


def _question_id(app_data: AppData, evaluation_id: int, index: int) -> int:
    db, _, _ = open_data(app_data.data_dir)
    try:
        view = get_evaluation(db, _principal(db, "coach@example.com"), evaluation_id)
    finally:
        db.engine.dispose()
    question_id = view.form.sections[0].questions[index].id
    assert question_id is not None
    return question_id


def test_an_admin_marks_questions_critical_in_a_new_form_version(app_data: AppData) -> None:
    at = _open(_signed_in("admin"), "views/quality.py")
    [create] = [b for b in at.button if b.label == "Create scorecard"]
    create.click()
    at.run()
    assert not at.exception, at.exception
    db, _, _ = open_data(app_data.data_dir)
    try:
        [form] = [f for f in list_forms(db, _principal(db, "admin@example.com")) if f.name == "Customer call"]
    finally:
        db.engine.dispose()
    critical = [q.text for s in form.sections for q in s.questions if q.critical]
    assert form.version == 2 and critical == ["Verifies the customer's identity"]  # as the editor's rows say
    at.run()  # the forms list, read before the button created v2, now shows it
    listed = [m.value for m in at.markdown if m.value.startswith("- Verifies the customer")]
    assert listed and all("critical" in line for line in listed)
