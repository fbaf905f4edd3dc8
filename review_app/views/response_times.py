"""Response times: was every e-mail answered and every missed call called back within its working
time (``storage.response_targets``)? Counts per status, per agent and per team, then the contacts:
breached, at risk, on track (each waiting one with its clock) and met. An agent sees their own, a
coach their team's and the contacts nobody has taken yet, the others everything.

The report is read once per choice and kept in the session: reruns neither read it again nor log
it again. Names and subjects from outside are shown in tables, as text.
"""

from __future__ import annotations

from datetime import date, timedelta

import streamlit as st

from review_app import context
from review_app.config import app_settings
from review_app.formatting import display_zone, local_midnight, zoned_column
from review_app.safe_text import show_error
from storage.access import Permission, allows
from storage.business_hours import CalendarError
from storage.errors import InvalidValue
from storage.response_targets import STATUSES, GroupCounts, TargetReport, latest_wait, response_report
from storage.teams import list_teams

_ANY = "any"
_RESULT = "sla.result"  # (what was asked, the report it gave)
_DEFAULT_DAYS = 30
_HEADINGS = {"breached": "Breached", "at_risk": "At risk", "on_track": "On track", "met": "Met"}
_KINDS = {"email_reply": "E-mail reply", "callback": "Callback"}

who = context.require_page(Permission.LOOKUP_CUSTOMERS)
db = context.database()
settings = app_settings()


def _widgets() -> None:
    state = st.session_state
    if "sla.to" not in state:
        # Up to the newest wait: up to today would show nothing for an old or quiet set of contacts.
        latest = latest_wait(db, who)
        state["sla.to"] = latest.astimezone(display_zone()).date() if latest else date.today()
        state["sla.from"] = state["sla.to"] - timedelta(days=_DEFAULT_DAYS - 1)
    zone = display_zone().key
    # An agent's report is their own: only those who oversee agents choose a team.
    overseer = allows(who, Permission.VIEW_AGENT_OVERVIEWS)
    cols = st.columns([1.4, 1, 1] if overseer else [1, 1])
    if overseer:
        teams = list_teams(db, who)
        if state.get("sla.team", _ANY) not in (_ANY, *teams):
            state["sla.team"] = _ANY
        cols[0].selectbox(
            "Team", [_ANY, *teams], format_func=lambda t: "Every team" if t == _ANY else t, key="sla.team"
        )
    cols[-2].date_input("From", key="sla.from", help=f"Days in {zone}")
    cols[-1].date_input("To", key="sla.to", help=f"Days in {zone}, this day included")


def _report() -> TargetReport | None:
    state = st.session_state
    first, last = state["sla.from"], state["sla.to"]
    team = state.get("sla.team", _ANY)
    asked = (first, last, team)
    kept = state.get(_RESULT)
    if kept is None or kept[0] != asked:
        try:
            report = response_report(
                db,
                who,
                settings.business_calendar(),
                settings.response_targets(),
                start=local_midnight(first),
                end=local_midnight(last + timedelta(days=1)),
                team=None if team == _ANY else team,
            )
        except (InvalidValue, CalendarError) as error:
            show_error(error)
            return None
        kept = state[_RESULT] = (asked, report)
    return kept[1]


def _counts_table(groups: list[GroupCounts], title: str, nobody: str) -> None:
    rows = [
        {title: group.name or nobody, **{_HEADINGS[s]: group.count(s) for s in STATUSES}} for group in groups
    ]
    st.dataframe(rows, hide_index=True, width="stretch")


def _contacts(report: TargetReport, status: str) -> None:
    items = report.with_status(status)  # type: ignore[arg-type]
    if not items:
        st.caption("None.")
        return
    rows = [
        {
            "What": _KINDS[item.kind],
            "Customer": item.customer or "—",
            "Agent": item.agent or "nobody yet",
            "Since": item.since,
            "Due": item.deadline,
            "Clock (working time)": item.clock,
            "Answered": item.answered_at,
            "Subject": item.subject or "",
        }
        for item in items
    ]
    st.dataframe(
        rows,
        hide_index=True,
        width="stretch",
        column_config={
            "Since": zoned_column("Since", "D MMM YYYY, HH:mm"),
            "Due": zoned_column("Due", "D MMM YYYY, HH:mm"),
            "Answered": zoned_column("Answered", "D MMM YYYY, HH:mm"),
        },
    )


st.title("Response times")
_widgets()
report = _report()
if report is None:
    st.stop()
targets = settings.response_targets()
st.caption(
    f"Waits that began from {st.session_state['sla.from']:%d %b %Y} to {st.session_state['sla.to']:%d %b %Y} "
    f"({display_zone().key}). Targets in working time (opening hours {', '.join(settings.opening_hours)}, "
    f"public holidays of {settings.holidays_country or settings.default_region}): a first reply to an "
    f"e-mail within {targets.email_reply_s / 3600:g} h, a callback after a missed call within "
    f"{targets.callback_s / 3600:g} h; at risk with less than {targets.at_risk_share:.0%} left."
)
metrics = st.columns(len(STATUSES))
for column, status in zip(metrics, STATUSES, strict=True):
    column.metric(_HEADINGS[status], len(report.with_status(status)))
by_agent, by_team = st.columns(2)
with by_agent:
    _counts_table(report.by_agent(), "Agent", "nobody yet")
with by_team:
    _counts_table(report.by_team(), "Team", "no team")
for tab, status in zip(st.tabs([_HEADINGS[s] for s in STATUSES]), STATUSES, strict=True):
    with tab:
        _contacts(report, status)
