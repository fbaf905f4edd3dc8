"""Quality: evaluations (agents read and answer their own), per-agent overviews over time, and the
scorecard forms admins define. Coaches score calls on the call page, while the call plays."""

from __future__ import annotations

from datetime import date, timedelta

import altair as alt
import pandas as pd
import streamlit as st

from review_app import context
from review_app.dispute_panel import CLOSED_KEY, dispute_section
from review_app.formatting import counted, zoned_column
from review_app.safe_text import md, show_error
from review_app.scoring import evaluation_details
from storage.access import Permission, allows
from storage.agents_view import list_agents
from storage.disputes import OpenDispute, open_disputes
from storage.errors import InvalidValue, PermissionDenied
from storage.limits import COMMENT_MAX_CHARS, FORM_NAME_MAX_CHARS
from storage.quality import (
    EVALUATION_STATUSES,
    EvaluationSummary,
    QuestionSpec,
    SectionSpec,
    acknowledge_evaluation,
    agent_overview,
    create_form,
    dispute_evaluation,
    get_evaluation,
    list_evaluations,
    list_forms,
)

_FORM_TEMPLATE = [
    {
        "Section": "Opening",
        "Section weight": 1.0,
        "Question": "Greets the customer and gives their name",
        "Kind": "yes_no_na",
        "Max points": 1.0,
        "Weight": 1.0,
        "Critical": False,
    },
    {
        "Section": "Opening",
        "Section weight": 1.0,
        "Question": "Verifies the customer's identity",
        "Kind": "yes_no_na",
        "Max points": 1.0,
        "Weight": 2.0,
        "Critical": True,
    },
    {
        "Section": "Resolution",
        "Section weight": 2.0,
        "Question": "Understands and solves the problem",
        "Kind": "points",
        "Max points": 5.0,
        "Weight": 3.0,
        "Critical": False,
    },
    {
        "Section": "Resolution",
        "Section weight": 2.0,
        "Question": "Confirms next steps before ending",
        "Kind": "yes_no_na",
        "Max points": 1.0,
        "Weight": 1.0,
        "Critical": False,
    },
]

who = context.require_page(Permission.VIEW_OWN_EVALUATIONS)
db = context.database()
coach = allows(who, Permission.VIEW_ALL_CALLS)
_PAGE = "views/quality.py"
_LINKED = "quality.evaluation"  # the evaluation shown: picked in the list, or named by a link


def _take_linked_evaluation() -> None:
    """An evaluation a link names (``/quality?evaluation=7``): shown until another row is chosen."""
    link = context.link_request(_PAGE) or {}
    if link.get("evaluation", "").isdigit():
        st.session_state[_LINKED] = int(link["evaluation"])


def _chosen(evaluations: list[EvaluationSummary], key: str) -> EvaluationSummary | None:
    """The evaluation picked in the list, else the one a link named (if it is among them); the
    address then names it, so it can be shared."""
    chosen = _evaluation_list(evaluations, key)
    if chosen is not None:
        st.session_state[_LINKED] = chosen.id
    linked = st.session_state.get(_LINKED)
    chosen = next((e for e in evaluations if e.id == linked), None)
    context.show_in_address(_PAGE, evaluation=chosen.id if chosen else None)
    return chosen


def _evaluation_list(evaluations: list[EvaluationSummary], key: str) -> EvaluationSummary | None:
    selection = st.dataframe(
        [
            {
                "Call": e.recording_id,  # empty when the call was deleted; the panel says when
                "Agent": e.agent,
                "Scorecard": e.form_name,
                "Score": e.score,
                "Status": e.status,
                "Coach": e.coach,
                "Submitted": e.submitted_at,
            }
            for e in evaluations
        ],
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        column_config={
            "Score": st.column_config.ProgressColumn("Score", min_value=0, max_value=100, format="%.0f"),
            "Submitted": zoned_column("Submitted", "D MMM YYYY"),
        },
        key=key,
    )
    rows = selection.selection.rows if selection else []
    return evaluations[rows[0]] if rows else None


def _evaluation_panel(summary: EvaluationSummary, where: str) -> None:
    """One evaluation with what its reader may do: replay the call, answer it, take part in its
    dispute. ``where`` keys the widgets: the same evaluation may show in two tabs."""
    view = get_evaluation(db, who, summary.id, context.audited_reads("evaluation_viewed"))
    with st.container(border=True):
        evaluation_details(view)
        if summary.recording_id is None:
            st.caption(f"The call was deleted on {summary.call_deleted_at:%Y-%m-%d}; its evaluation is kept.")
        elif st.button("Replay this call", icon=":material/headphones:", key=f"{where}-replay-{summary.id}"):
            context.open_call(summary.recording_id, 0.0)
        dispute_section(db, who, view, where)
        own = who.agent_id is not None and who.agent_id == summary.agent_id
        if own and summary.status == "submitted":
            comment = st.text_area(
                "Your comment",
                key=f"{where}-answer-{summary.id}",
                placeholder="Optional when acknowledging",
                max_chars=COMMENT_MAX_CHARS,
            )
            left, right = st.columns(2)
            try:
                if left.button("Acknowledge", type="primary", icon=":material/thumb_up:", width="stretch"):
                    acknowledge_evaluation(db, who, summary.id, comment or None)
                    st.rerun()
                if right.button("Dispute", icon=":material/flag:", width="stretch"):
                    dispute_evaluation(db, who, summary.id, comment)
                    st.rerun()
            except (InvalidValue, PermissionDenied) as error:
                show_error(error)


def _my_evaluations() -> None:
    evaluations = list_evaluations(db, who, audited=context.audited_reads("evaluations_listed"))
    if who.agent_id is None:
        st.info(
            "Your account is not linked to a PBX agent, so no evaluations are yours. Ask an admin to link it."
        )
        return
    if not evaluations:
        st.info("No evaluations of your calls yet.")
        return
    waiting = sum(1 for e in evaluations if e.status == "submitted")
    scores = [e.score for e in evaluations if e.score is not None]
    cols = st.columns(3)
    cols[0].metric("Evaluations", len(evaluations))
    cols[1].metric("Average score", f"{sum(scores) / len(scores):.0f}" if scores else "—")
    cols[2].metric("Waiting for your answer", waiting)
    chosen = _chosen(evaluations, "my-evaluations")
    if chosen is not None:
        _evaluation_panel(chosen, "mine")


def _all_evaluations() -> None:
    status = st.segmented_control("Status", EVALUATION_STATUSES, format_func=str.title, key="eval-status")
    evaluations = list_evaluations(
        db, who, status=status, audited=context.audited_reads("evaluations_listed")
    )
    if not evaluations:
        st.caption(
            "No evaluations"
            + (f" with status {status}" if status else "")
            + " yet. Score calls on the Calls page."
        )
        return
    chosen = _chosen(evaluations, "all-evaluations")
    if chosen is not None:
        _evaluation_panel(chosen, "all")


def _disputes(disputes: list[OpenDispute]) -> None:
    """Every open dispute the user takes part in, those waiting for them marked; one picked opens
    with its exchange and the steps they may take."""
    if not disputes:
        st.caption("No open disputes." if coach else "None of your evaluations is disputed and open.")
        return
    other_side = {"coach": "a coach", "agent": "the agent"}
    selection = st.dataframe(
        [
            {
                "Waiting for": "you" if d.your_turn else other_side[d.waiting_for],
                "Call": d.evaluation.recording_id,
                "Agent": d.evaluation.agent,
                "Scorecard": d.evaluation.form_name,
                "Score": d.evaluation.score,
                "Coach": d.evaluation.coach,
                "Messages": d.messages,
                "Last message": d.last_message_at,
            }
            for d in disputes
        ],
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        column_config={
            "Score": st.column_config.ProgressColumn("Score", min_value=0, max_value=100, format="%.0f"),
            "Last message": zoned_column("Last message", "D MMM YYYY, HH:mm"),
        },
        # Sorted by evaluation, a row keeps its place while the exchange goes on; a closed dispute
        # leaves the list, and a new key starts it unselected rather than on the next row.
        key=f"disputes-{st.session_state.get(CLOSED_KEY, 0)}",
    )
    rows = selection.selection.rows if selection else []
    if rows and rows[0] < len(disputes):
        _evaluation_panel(disputes[rows[0]].evaluation, "disputes")
    else:
        st.caption("Pick a dispute to read the exchange and answer it.")


def _overview() -> None:
    agents = list_agents(db, who)
    if not agents:
        st.info("No agents yet: agents appear when calls name them.")
        return
    left, right = st.columns([1, 1])
    agent = left.selectbox("Agent", agents, format_func=lambda a: f"{a.name} ({counted(a.calls, 'call')})")
    # The twelve weeks up to the agent's latest call: up to today would be empty for old calls.
    until = agent.last_call or date.today()
    period = right.date_input(
        "Period", value=(until - timedelta(weeks=12), until), key=f"overview-period-{agent.id}"
    )
    if len(period) != 2:
        st.caption("Choose the last day of the period.")
        return
    try:
        overview = agent_overview(db, who, agent.id, period[0], period[1])
    except InvalidValue as error:
        show_error(error)
        return
    weeks = pd.DataFrame(
        [
            {
                "Week": pd.Timestamp(w.week_start),
                "Average score": w.average_score,
                "Evaluations": w.evaluations,
                "Calls": w.calls,
                "Agent talk share %": None if w.talk_ratio is None else 100 * w.talk_ratio,
                "Silence %": None if w.silence_share is None else 100 * w.silence_share,
                "Agent interruptions": w.agent_interruptions,
                "Customer interruptions": w.customer_interruptions,
            }
            for w in overview.weeks
        ]
    ).set_index("Week")
    scores = weeks["Average score"].dropna()
    cols = st.columns(4)
    cols[0].metric("Calls", int(weeks["Calls"].sum()))
    cols[1].metric("Evaluations", int(weeks["Evaluations"].sum()))
    cols[2].metric("Average score", f"{scores.mean():.0f}" if len(scores) else "—")
    cols[3].metric("Interruptions by agent", int(weeks["Agent interruptions"].sum()))
    top_left, top_right = st.columns(2)
    with top_left:
        _chart("Average score per week", weeks, ["Average score"], "score", domain=(0, 100))
    with top_right:
        _chart(
            "Talk share and silence per week",
            weeks,
            ["Agent talk share %", "Silence %"],
            "% of call",
            (0, 100),
        )
    bottom_left, bottom_right = st.columns(2)
    with bottom_left:
        _chart(
            "Interruptions per week",
            weeks,
            ["Agent interruptions", "Customer interruptions"],
            "count",
            bars=True,
        )
    with bottom_right:
        _chart("Calls and evaluations per week", weeks, ["Calls", "Evaluations"], "count", bars=True)


def _chart(
    title: str,
    weeks: pd.DataFrame,
    columns: list[str],
    unit: str,
    domain: tuple[float, float] | None = None,
    bars: bool = False,
) -> None:
    """Weekly series as points joined by lines (a week without data stays a gap), or grouped bars."""
    data = weeks[columns].reset_index().melt("Week", var_name="Series", value_name="Value").dropna()
    scale = alt.Scale(domain=list(domain)) if domain else alt.Scale(zero=True)
    axis = alt.Axis(format="d", tickMinStep=1) if bars else alt.Axis()
    base = alt.Chart(data, title=title, height=220)
    if bars:
        # Weeks as bands (ordinal): on a time axis bars have no width to share and draw as hairlines.
        chart = base.mark_bar().encode(
            x=alt.X(
                "yearmonthdate(Week):O",
                title=None,
                axis=alt.Axis(format="%d %b", formatType="time", labelAngle=-45),
            ),
            xOffset="Series:N",
            y=alt.Y("Value:Q", title=unit, scale=scale, axis=axis),
            color=alt.Color("Series:N", title=None, legend=alt.Legend(orient="bottom")),
        )
    else:
        chart = base.mark_line(point=True).encode(
            x=alt.X("Week:T", title=None),
            y=alt.Y("Value:Q", title=unit, scale=scale),
            color=alt.Color("Series:N", title=None, legend=alt.Legend(orient="bottom")),
        )
    st.altair_chart(chart, width="stretch")


def _forms() -> None:
    forms = list_forms(db, who, include_inactive=True)
    for form in forms:
        questions = sum(len(s.questions) for s in form.sections)
        state = ":green-badge[active]" if form.active else ":gray-badge[retired]"
        with st.expander(
            md(f"{form.name} v{form.version} · {len(form.sections)} sections · {questions} questions")
        ):
            st.markdown(state)
            for section in form.sections:
                st.markdown(f"**{md(section.title)}** (weight {section.weight:g})")
                for question in section.questions:
                    kind = (
                        "yes / no / n.a."
                        if question.kind == "yes_no_na"
                        else f"0–{question.max_points:g} points"
                    )
                    critical = " · :red[**critical** (auto-fail)]" if question.critical else ""
                    st.markdown(f"- {md(question.text)} · {md(kind)} · weight {question.weight:g}{critical}")
    if not allows(who, Permission.MANAGE_SETTINGS):
        return
    st.subheader("New scorecard (or a new version of one)")
    name = st.text_input("Name", value="Customer call", key="form-name", max_chars=FORM_NAME_MAX_CHARS)
    rows = st.data_editor(
        _FORM_TEMPLATE,
        num_rows="dynamic",
        width="stretch",
        column_config={
            "Kind": st.column_config.SelectboxColumn("Kind", options=["yes_no_na", "points"], required=True),
            "Question": st.column_config.TextColumn("Question", width="large", required=True),
            "Critical": st.column_config.CheckboxColumn(
                "Critical", help="Failing it (No, or 0 points) makes the whole score 0", default=False
            ),
        },
        key="form-editor",
    )
    if st.button("Create scorecard", type="primary", icon=":material/add_task:"):
        try:
            form = create_form(db, who, name, _sections(rows))
        except (InvalidValue, TypeError, ValueError) as error:
            show_error(error)
        else:
            st.success(f"Scorecard '{md(form.name)}' v{form.version} created; earlier versions are retired.")


def _sections(rows: list[dict[str, object]]) -> list[SectionSpec]:
    """Rows of the editor, grouped into sections in the order they first appear."""
    grouped: dict[str, tuple[float, list[QuestionSpec]]] = {}
    for row in rows:
        title = str(row.get("Section") or "").strip()
        text = str(row.get("Question") or "").strip()
        if not title or not text:
            continue
        weight, questions = grouped.setdefault(title, (float(row.get("Section weight") or 1.0), []))  # type: ignore[arg-type]
        questions.append(
            QuestionSpec(
                text=text,
                kind=str(row.get("Kind") or "yes_no_na"),  # type: ignore[arg-type]
                max_points=float(row.get("Max points") or 1.0),  # type: ignore[arg-type]
                weight=float(row.get("Weight") or 1.0),  # type: ignore[arg-type]
                critical=bool(row.get("Critical")),
            )
        )
    return [SectionSpec(title, tuple(questions), weight) for title, (weight, questions) in grouped.items()]


_take_linked_evaluation()
st.title("Quality")
disputes = open_disputes(db, who, context.audited_reads("disputes_listed"))
waiting = sum(d.your_turn for d in disputes)
# Always a container, so the tabs below keep their place (and the tab shown) when the notice goes.
notice = st.container()
if waiting:
    notice.warning(
        f"{counted(waiting, 'dispute')} waiting for you: see the Disputes tab.", icon=":material/forum:"
    )
if coach:
    evaluations_tab, disputes_tab, overview_tab, forms_tab = st.tabs(
        ["Evaluations", "Disputes", "Agent overview", "Scorecards"]
    )
    with evaluations_tab:
        _all_evaluations()
    with disputes_tab:
        _disputes(disputes)
    with overview_tab:
        _overview()
    with forms_tab:
        _forms()
else:
    st.caption("Evaluations of your calls. Acknowledge them, or dispute them with a comment.")
    mine_tab, disputes_tab = st.tabs(["My evaluations", "Disputes"])
    with mine_tab:
        _my_evaluations()
    with disputes_tab:
        _disputes(disputes)
