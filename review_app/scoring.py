"""Scorecard widgets shared by the call page (a coach scores while the call plays) and the quality
page (agents read and answer their evaluations)."""

from __future__ import annotations

import streamlit as st

from review_app.context import audited_reads
from review_app.formatting import when
from review_app.safe_text import md, show_error
from storage.access import Principal
from storage.db import Database
from storage.errors import InvalidValue, NotFound, PermissionDenied
from storage.limits import COMMENT_MAX_CHARS
from storage.quality import (
    AnswerInput,
    EvaluationView,
    Form,
    QuestionSpec,
    compute_score,
    failed_critical,
    get_evaluation,
    list_evaluations,
    list_forms,
    save_answers,
    start_evaluation,
    submit_evaluation,
)

__all__ = [
    "answer_inputs",
    "answer_label",
    "evaluation_details",
    "score_badge",
    "scoring_panel",
    "status_badge",
]

_YES_NO_LABELS = {"yes": "Yes", "no": "No", "na": "N/A"}
_CRITICAL_HELP = "Critical: failing it (No, or 0 points) makes the whole score 0, whatever the rest."
_STATUS_LABELS = {
    "draft": ":gray-badge[Draft]",
    "submitted": ":blue-badge[Awaiting agent]",
    "acknowledged": ":green-badge[Acknowledged]",
    "disputed": ":orange-badge[Disputed]",
    "upheld": ":violet-badge[Dispute upheld]",
    "resolved": ":green-badge[Dispute resolved]",
}


def score_badge(score: float | None) -> str:
    if score is None:
        return ":gray-badge[no score]"
    color = "green" if score >= 80 else "orange" if score >= 60 else "red"
    return f":{color}-badge[{score:.0f} / 100]"


def status_badge(status: str) -> str:
    return _STATUS_LABELS.get(status, status)


def scoring_panel(db: Database, who: Principal, recording_id: int) -> None:
    """The coach's draft for this call: pick a form, answer while listening, save or submit."""
    drafts = [
        e
        for e in list_evaluations(
            db, who, recording_id=recording_id, status="draft", audited=audited_reads("evaluations_listed")
        )
        if e.coach == who.username
    ]
    if drafts:
        view = get_evaluation(db, who, drafts[0].id, audited_reads("evaluation_viewed"))
    else:
        done = list_evaluations(
            db, who, recording_id=recording_id, audited=audited_reads("evaluations_listed")
        )
        for evaluation in done:
            st.markdown(
                f"{md(evaluation.form_name)} by {md(evaluation.coach)}: {score_badge(evaluation.score)} "
                f"{status_badge(evaluation.status)}"
            )
        forms = list_forms(db, who)
        if not forms:
            st.info("No scorecard yet. An admin defines scorecards on the Quality page.")
            return
        form = st.selectbox("Scorecard", forms, format_func=lambda f: f"{f.name} (v{f.version})")
        if st.button("Start scoring", type="primary", icon=":material/rate_review:"):
            try:
                start_evaluation(db, who, recording_id, form.id)
            except (InvalidValue, NotFound) as error:
                show_error(error)
            else:
                st.rerun()
        return
    _draft_form(db, who, view)


def _draft_form(db: Database, who: Principal, view: EvaluationView) -> None:
    form = view.form
    prefix = f"eval{view.summary.id}"
    answers = answer_inputs(view, prefix)
    overall = st.text_area(
        "Overall comment for the agent",
        value=view.summary.coach_comment or "",
        max_chars=COMMENT_MAX_CHARS,
        key=f"{prefix}overall",
    )
    values = {qid: a.value for qid, a in answers.items()}
    score = compute_score(form, values)
    total = sum(len(s.questions) for s in form.sections)
    st.markdown(f"Score so far: {score_badge(score)} · {len(answers)} of {total} answered")
    _auto_fail_notice(failed_critical(form, values))
    save, submit = st.columns(2)
    if save.button("Save draft", icon=":material/save:", width="stretch", key=f"{prefix}save"):
        _save(db, who, view.summary.id, answers, overall, submit=False)
    if submit.button(
        "Submit to agent",
        type="primary",
        icon=":material/send:",
        width="stretch",
        key=f"{prefix}submit",
    ):
        _save(db, who, view.summary.id, answers, overall, submit=True)


def _auto_fail_notice(failed: tuple[QuestionSpec, ...]) -> None:
    for question in failed:
        st.error(f"Auto-fail: {md(question.text)}", icon=":material/block:")


def _save(
    db: Database,
    who: Principal,
    evaluation_id: int,
    answers: dict[int, AnswerInput],
    overall: str,
    submit: bool,
) -> None:
    try:
        save_answers(db, who, evaluation_id, answers, coach_comment=overall)
        if submit:
            submit_evaluation(db, who, evaluation_id)
    except (InvalidValue, PermissionDenied) as error:
        show_error(error)
        return
    st.toast("Evaluation submitted to the agent." if submit else "Draft saved.", icon=":material/check:")
    if submit:
        st.rerun()


def answer_inputs(view: EvaluationView, prefix: str) -> dict[int, AnswerInput]:
    """A widget per question and one for its comment, each starting at the stored answer; what they
    hold, by question id (unanswered questions left out). ``prefix`` keys the widgets, one set per
    evaluation and place. Critical questions are marked as such."""
    answers: dict[int, AnswerInput] = {}
    for section in view.form.sections:
        st.markdown(
            f"**{md(section.title)}**" + (f" · weight {section.weight:g}" if section.weight != 1 else "")
        )
        for question in section.questions:
            assert question.id is not None
            stored = view.answers.get(question.id)
            label = md(question.text) + (" · :red[**critical**]" if question.critical else "")
            hint = _CRITICAL_HELP if question.critical else None
            if question.kind == "yes_no_na":
                value = st.segmented_control(
                    label,
                    list(_YES_NO_LABELS),
                    format_func=_YES_NO_LABELS.__getitem__,
                    default=stored.value if stored else None,
                    help=hint,
                    key=f"{prefix}q{question.id}",
                )
            else:
                points = st.number_input(
                    f"{label} (0–{question.max_points:g} points)",
                    min_value=0.0,
                    max_value=float(question.max_points),
                    step=1.0,
                    value=float(stored.value) if stored and stored.value != "na" else None,
                    help=hint,
                    key=f"{prefix}q{question.id}",
                )
                value = None if points is None else f"{points:g}"
            comment = st.text_input(
                "Comment",
                value=(stored.comment or "") if stored else "",
                max_chars=COMMENT_MAX_CHARS,
                placeholder="Optional: why this answer",
                key=f"{prefix}c{question.id}",
            )
            if value is not None:
                answers[question.id] = AnswerInput(value, comment.strip() or None)
    return answers


def answer_label(question: QuestionSpec, value: str | None) -> str:
    """An answer as it reads: "Yes", "N/A", "3 / 5"; "—" for none."""
    if value is None:
        return "—"
    if question.kind == "yes_no_na" or value == "na":
        return _YES_NO_LABELS.get(value, value)
    return f"{value} / {question.max_points:g}"


def evaluation_details(view: EvaluationView) -> None:
    """An evaluation as the agent and the coach read it: score, status, why it auto-failed, every
    answer with its comment, the coach's overall comment."""
    summary = view.summary
    st.markdown(
        f"#### {md(summary.form_name)} · {score_badge(summary.score)} {status_badge(summary.status)}\n"
        f"Call {summary.recording_id} · agent **{md(summary.agent)}** · coach {md(summary.coach)} · "
        f"submitted {md(when(summary.submitted_at))}"
    )
    _auto_fail_notice(view.auto_fail)
    _answers_table(view.form, view)
    if summary.coach_comment:
        st.markdown("**Coach's comment:**")
        st.text(summary.coach_comment)
    if summary.agent_comment and summary.status == "acknowledged":  # a dispute's is in its history
        st.markdown("**Agent's comment:**")
        st.text(summary.agent_comment)


def _answers_table(form: Form, view: EvaluationView) -> None:
    rows = []
    for section in form.sections:
        for question in section.questions:
            answer = view.answers.get(question.id) if question.id is not None else None
            value = answer_label(question, answer.value if answer else None)
            rows.append(
                {
                    "Section": section.title,
                    "Question": question.text,
                    "Critical": question.critical,
                    "Answer": value,
                    "Comment": answer.comment if answer and answer.comment else "",
                }
            )
    st.dataframe(rows, hide_index=True, width="stretch")
