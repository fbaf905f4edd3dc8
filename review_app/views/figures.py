"""Figures: what each channel or agent achieves per day or week (contacts, handle time, first
response time, time to resolution, CSAT, NPS, CES; ``storage.channel_figures``), one measure charted
at a time so the chart stays readable on a 1366×768 laptop, and the period's totals in a table.

The result is read once per choice and kept in the session: reruns neither read it again nor log it
again. The default period is the four weeks up to the newest contact.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import altair as alt
import pandas as pd  # type: ignore[import-untyped]
import streamlit as st

from review_app import context
from review_app.formatting import channel_name, display_zone, local_midnight
from review_app.safe_text import show_error
from storage.access import Permission
from storage.agents_view import list_agents
from storage.channel_figures import FigureRequest, FigureRow, Figures, channel_figures, figure_choices
from storage.errors import InvalidValue

_ANY = "any"
_RESULT = "figures.result"  # (what was asked, the figures it gave)
_DEFAULT_DAYS = 28
_CHART_GROUPS = 8  # lines beyond this many are unreadable; the table has every group


@dataclass(frozen=True)
class _Measure:
    label: str  # axis and column title, with its unit
    value: Callable[[FigureRow], float | None]
    count: bool = False  # stacked bars (a day without contacts is a gap, not a line across it)


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


_MEASURES = {
    "contacts": _Measure("Contacts", lambda r: r.contacts, count=True),
    "handle": _Measure("Handle (min)", lambda r: _minutes(r.handle_time)),
    "first_response": _Measure("1st response (min)", lambda r: _minutes(r.first_response)),
    "resolution": _Measure("Resolution (min)", lambda r: _minutes(r.resolution)),
    "csat": _Measure("CSAT (1-5)", lambda r: r.csat),
    "nps": _Measure("NPS (-100 to 100)", lambda r: r.nps),
    "ces": _Measure("CES (1-7)", lambda r: r.ces),
}

who = context.require_page(Permission.VIEW_AGENT_OVERVIEWS)
db = context.database()


def _widgets() -> None:
    state = st.session_state
    choices = figure_choices(db, who)
    if "figures.to" not in state:
        latest = choices.latest.astimezone(display_zone()).date() if choices.latest else None
        state["figures.to"] = latest or datetime.now(display_zone()).date()
        state["figures.from"] = state["figures.to"] - timedelta(days=_DEFAULT_DAYS - 1)
    agents = {a.id: a.name for a in list_agents(db, who)}
    zone = display_zone().key
    top = st.columns([1, 1, 1, 1, 1.2, 1.2])
    top[0].date_input("From", key="figures.from", help=f"Days in {zone}")
    top[1].date_input("To", key="figures.to", help=f"Days in {zone}, this day included")
    top[2].selectbox("Per", ["day", "week"], format_func=str.title, key="figures.per")
    top[3].selectbox("Group by", ["channel", "agent"], format_func=str.title, key="figures.by")
    top[4].selectbox(
        "Channel",
        [_ANY, *choices.channels],
        format_func=lambda c: "Every channel" if c == _ANY else channel_name(c),
        key="figures.channel",
    )
    top[5].selectbox(
        "Agent",
        [_ANY, *agents],
        format_func=lambda a: "Every agent" if a == _ANY else agents[a],
        key="figures.agent",
    )


def _figures() -> Figures | None:
    state = st.session_state
    first, last = state["figures.from"], state["figures.to"]
    channel = None if state["figures.channel"] == _ANY else state["figures.channel"]
    agent = None if state["figures.agent"] == _ANY else state["figures.agent"]
    asked = (first, last, state["figures.by"], state["figures.per"], channel, agent)
    kept = state.get(_RESULT)
    if kept is None or kept[0] != asked:
        request = FigureRequest(
            start=local_midnight(first),
            end=local_midnight(last + timedelta(days=1)),
            by=state["figures.by"],
            per=state["figures.per"],
            channel=channel,
            agent_id=agent,
            zone=display_zone().key,
        )
        try:
            found = channel_figures(db, who, request)
        except InvalidValue as error:
            show_error(error)
            return None
        kept = state[_RESULT] = (asked, found)
    return kept[1]


def _group_name(group: str) -> str:
    return channel_name(group) if st.session_state["figures.by"] == "channel" else group


def _chart(found: Figures, measure: _Measure) -> None:
    shown = [row.group for row in found.totals[:_CHART_GROUPS]]
    data = pd.DataFrame(
        [
            {"Day": row.bucket, "Group": _group_name(row.group), "Value": measure.value(row)}
            for row in found.rows
            if row.group in shown and measure.value(row) is not None
        ]
    )
    if data.empty:
        st.caption("Nothing to chart for this measure in this period.")
        return
    period = "Week starting" if found.request.per == "week" else "Day"
    by = found.request.by.title()
    x = alt.X("Day:T", timeUnit="yearmonthdate", title=period, axis=alt.Axis(format="%d %b", labelAngle=0))
    base = alt.Chart(data).encode(
        x=x,
        color=alt.Color("Group:N", title=by, legend=alt.Legend(orient="right")),
        tooltip=[
            alt.Tooltip("Day:T", title=period, format="%d %b %Y"),
            alt.Tooltip("Group:N", title=by),
            alt.Tooltip("Value:Q", title=measure.label),
        ],
    )
    if measure.count:
        chart = base.mark_bar().encode(
            y=alt.Y("Value:Q", title=measure.label, stack="zero", axis=alt.Axis(format="d", tickMinStep=1))
        )
    else:
        chart = base.mark_line(point=True).encode(y=alt.Y("Value:Q", title=measure.label))
    chart = chart.properties(height=260)
    st.altair_chart(chart, width="stretch")
    if len(found.totals) > _CHART_GROUPS:
        st.caption(f"The chart shows the {_CHART_GROUPS} with the most contacts; the table has all.")


def _table(found: Figures) -> None:
    title = found.request.by.title()
    rows = [
        {title: _group_name(row.group)}
        | {measure.label: measure.value(row) for measure in _MEASURES.values()}
        | {"Answers": row.survey_answers}
        for row in found.totals
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


st.title("Figures")
_widgets()
figures = _figures()
if figures is None:
    st.stop()
state = st.session_state
st.caption(
    f"The contacts that started from {state['figures.from']:%d %b %Y} to {state['figures.to']:%d %b %Y} "
    f"({display_zone().key}). Handle time: a call's duration, a thread's first message to the agent's "
    "last reply. First response: elapsed time (nights and weekends included) from a customer's first "
    "message to the first reply. Resolution: a call's end, a thread's last message. CSAT and CES are "
    "mean scores; NPS is promoters' share less detractors'."
)
if not figures.rows:
    st.info("No contacts in this period.")
    st.stop()
choice = st.radio(
    "Measure",
    list(_MEASURES),
    format_func=lambda m: _MEASURES[m].label,
    horizontal=True,
    key="figures.measure",
    label_visibility="collapsed",
)
_chart(figures, _MEASURES[choice])
_table(figures)
