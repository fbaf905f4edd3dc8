"""Team: every agent side by side over a period (calls, scored calls, average score, talk share,
silence, interruptions; ``storage.quality.team_view``), sorted by any column, narrowed to a team.
Each agent's name links to the call list showing that agent's calls of the same days: the drill-down.

The period, team and order live in the address (``/team?team=North&from=2026-11-01&to=2026-11-28``),
so a reload or a shared link shows the same table. It is read once per choice and kept in the
session: reruns neither read it again nor log it again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import cast

import streamlit as st

from review_app import context
from review_app.formatting import display_zone, linked_day, local_midnight
from review_app.safe_text import md, show_error
from storage.access import Permission
from storage.agents_view import list_agents
from storage.errors import InvalidValue
from storage.quality import TeamRow, team_view
from storage.teams import list_teams

_PAGE = "views/team.py"
_ANY = "any"
_RESULT = "team.result"  # (what was asked, the rows it gave)
_DEFAULT_DAYS = 28


@dataclass(frozen=True)
class _Column:
    heading: str
    cell: Callable[[TeamRow], str]  # the cell's Markdown, every value from outside escaped
    key: Callable[[TeamRow], str | float | None]  # what it sorts by; None sorts last either way
    numeric: bool = True  # right-aligned


def _percent(share: float | None) -> str:
    return "—" if share is None else f"{100 * share:.0f} %"


def _agent_link(row: TeamRow) -> str:
    first, last = st.session_state["team.from"], st.session_state["team.to"]
    link = context.address_of(
        context.CALL_LIST_PAGE, agent=row.agent_id, **{"from": first.isoformat(), "to": last.isoformat()}
    )
    return f"[{md(row.agent)}]({link})"


_COLUMNS = {
    "agent": _Column("Agent", _agent_link, lambda r: r.agent.lower(), numeric=False),
    "team": _Column("Team", lambda r: md(r.team or "—"), lambda r: r.team and r.team.lower(), numeric=False),
    "calls": _Column("Calls", lambda r: str(r.calls), lambda r: r.calls),
    "scored": _Column("Scored calls", lambda r: str(r.scored_calls), lambda r: r.scored_calls),
    "score": _Column(
        "Average score",
        lambda r: "—" if r.average_score is None else f"{r.average_score:.0f}",
        lambda r: r.average_score,
    ),
    "talk": _Column("Agent talk share", lambda r: _percent(r.talk_ratio), lambda r: r.talk_ratio),
    "silence": _Column("Silence", lambda r: _percent(r.silence_share), lambda r: r.silence_share),
    "agent_interruptions": _Column(
        "Interruptions by agent", lambda r: str(r.agent_interruptions), lambda r: r.agent_interruptions
    ),
    "customer_interruptions": _Column(
        "Interruptions by customer",
        lambda r: str(r.customer_interruptions),
        lambda r: r.customer_interruptions,
    ),
}

who = context.require_page(Permission.VIEW_AGENT_OVERVIEWS)
db = context.database()


def _take_link() -> None:
    """What a link names (a reload, a bookmark, a shared link) goes into the widgets before they show."""
    link = context.link_request(_PAGE)
    if link is None:
        return
    state = st.session_state
    state["team.team"] = link.get("team") or _ANY
    first, last = linked_day(link.get("from")), linked_day(link.get("to"))
    if first and last:
        state["team.from"], state["team.to"] = first, last
    state["team.sort"] = link["sort"] if link.get("sort") in _COLUMNS else "agent"
    state["team.order"] = "Descending" if link.get("order") == "desc" else "Ascending"


def _widgets() -> None:
    state = st.session_state
    teams = list_teams(db, who)
    if state.get("team.team", _ANY) not in (_ANY, *teams):
        state["team.team"] = _ANY  # a link's team that is no more
    if "team.to" not in state:
        # Four weeks up to the latest call: up to today would show nothing for a quiet or old set of calls.
        latest = max((a.last_call for a in list_agents(db, who) if a.last_call), default=None)
        state["team.to"] = latest or date.today()
        state["team.from"] = state["team.to"] - timedelta(days=_DEFAULT_DAYS - 1)
    zone = display_zone().key
    cols = st.columns([1.2, 1, 1, 1.4, 1])
    cols[0].selectbox(
        "Team", [_ANY, *teams], format_func=lambda t: "Every team" if t == _ANY else t, key="team.team"
    )
    cols[1].date_input("From", key="team.from", help=f"Days in {zone}")
    cols[2].date_input("To", key="team.to", help=f"Days in {zone}, this day included")
    state.setdefault("team.sort", "agent")
    cols[3].selectbox("Sort by", list(_COLUMNS), format_func=lambda c: _COLUMNS[c].heading, key="team.sort")
    state.setdefault("team.order", "Ascending")
    cols[4].selectbox("Order", ["Ascending", "Descending"], key="team.order")


def _rows() -> list[TeamRow] | None:
    """The table's rows for the widgets' choice, read once per choice; None when it makes no sense."""
    state = st.session_state
    first, last = state["team.from"], state["team.to"]
    team = None if state["team.team"] == _ANY else state["team.team"]
    asked = (first, last, team)
    kept = state.get(_RESULT)
    if kept is None or kept[0] != asked:
        try:
            rows = team_view(db, who, local_midnight(first), local_midnight(last + timedelta(days=1)), team)
        except InvalidValue as error:
            show_error(error)
            return None
        kept = state[_RESULT] = (asked, rows)
    return kept[1]


def _sorted(rows: list[TeamRow]) -> list[TeamRow]:
    """By the chosen column, ties by agent name (the order ``team_view`` gives); rows without a value
    (no score, no transcript) last whichever the order."""
    state = st.session_state
    key = _COLUMNS[state["team.sort"]].key
    known = [r for r in rows if key(r) is not None]
    known.sort(key=lambda r: cast("str | float", key(r)), reverse=state["team.order"] == "Descending")
    return known + [r for r in rows if key(r) is None]


def _table(rows: list[TeamRow]) -> None:
    columns = list(_COLUMNS.values())
    lines = [
        "| " + " | ".join(c.heading for c in columns) + " |",
        "|" + "|".join("--:" if c.numeric else "---" for c in columns) + "|",
    ]
    lines += ["| " + " | ".join(c.cell(row) for c in columns) + " |" for row in rows]
    st.markdown("\n".join(lines))


def _show_in_address() -> None:
    state = st.session_state
    context.show_in_address(
        _PAGE,
        team=None if state["team.team"] == _ANY else state["team.team"],
        **{"from": state["team.from"].isoformat(), "to": state["team.to"].isoformat()},
        sort=None if state["team.sort"] == "agent" else state["team.sort"],
        order="desc" if state["team.order"] == "Descending" else None,
    )


_take_link()
st.title("Team")
_widgets()
rows = _rows()
if rows is None:
    st.stop()
_show_in_address()
st.caption(
    f"The calls that started from {st.session_state['team.from']:%d %b %Y} to "
    f"{st.session_state['team.to']:%d %b %Y} ({display_zone().key}). Scores are averaged over "
    "submitted evaluations, talk share and silence over transcribed calls. "
    "An agent's name opens their calls of these days."
)
if rows:
    _table(_sorted(rows))
else:
    st.info("No agents in this team.")
