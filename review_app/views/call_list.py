"""Call list: every call, filtered, sorted and paged, each row a link to the call; and "Next call to
review", which opens an unscored call drawn fairly per agent (``storage.call_list``).

The filters, sort and page live in the address (``/call_list?agent=3&team=North&unscored=1&page=2``), so a
reload or a shared link shows the same list. A page of calls is read once per set of filters and
kept in the session: reruns neither read it again nor log it again.
"""

from __future__ import annotations

from datetime import timedelta

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from review_app import context
from review_app.formatting import clock, display_zone, linked_day, local_midnight, when
from review_app.insight_panes import tracker_alerts
from review_app.safe_text import md, show_error
from storage.access import Permission, allows
from storage.agents_view import list_agents
from storage.assignments import assign_calls, list_reviewers
from storage.call_list import (
    CALL_SORTS,
    DIRECTIONS,
    CallFilters,
    CallListPage,
    CallSort,
    list_call_page,
    next_call_to_review,
)
from storage.errors import InvalidValue, NotFound, PermissionDenied
from storage.teams import list_teams
from storage.trackers import list_trackers

_PAGE = context.CALL_LIST_PAGE
_PAGE_SIZES = (5, 10, 25, 50, 100)
_SORT_NAMES = {"started": "Start time", "duration": "Duration", "agent": "Agent"}
_ANY_AGENT = 0  # no agent has id 0; a None option would read as no choice made
_ANY = "any"
_ANY_TRACKER = 0  # no tracker has id 0
_RESULT = "call_list.result"  # (what was asked, the page it gave)
_EMPTY = "call_list.empty"  # "Next call to review" found nothing

who = context.require_page(Permission.VIEW_ALL_CALLS)
db = context.database()


def _take_link() -> None:
    """Filters a link names (a reload, a bookmark, a shared link) go into the widgets before they show."""
    link = context.link_request(_PAGE)
    if link is None:
        return
    state = st.session_state
    state.pop("call_list.asked", None)  # the link's page stands
    state["call_list.agent"] = int(link["agent"]) if link.get("agent", "").isdigit() else _ANY_AGENT
    state["call_list.team"] = link.get("team") or _ANY
    state["call_list.customer"] = link.get("customer", "")
    state["call_list.from"] = linked_day(link.get("from"))
    state["call_list.to"] = linked_day(link.get("to"))
    state["call_list.direction"] = link["direction"] if link.get("direction") in DIRECTIONS else _ANY
    state["call_list.min"] = _minutes(link.get("min"))
    state["call_list.max"] = _minutes(link.get("max"))
    state["call_list.unscored"] = link.get("unscored") == "1"
    state["call_list.disputed"] = link.get("disputed") == "1"
    state["call_list.flagged"] = link.get("flagged") == "1"
    state["call_list.mine"] = link.get("mine") == "1"
    state["call_list.tracker"] = int(link["tracker"]) if link.get("tracker", "").isdigit() else _ANY_TRACKER
    state["call_list.sort"] = link.get("sort") if link.get("sort") in CALL_SORTS else "started"
    state["call_list.order"] = "Ascending" if link.get("order") == "asc" else "Descending"
    size = int(link["size"]) if link.get("size", "").isdigit() else 25
    state["call_list.size"] = size if size in _PAGE_SIZES else 25
    state["call_list.page"] = max(1, int(link["page"])) if link.get("page", "").isdigit() else 1


def _minutes(value: str | None) -> float | None:
    try:
        minutes = float(value) if value else None
    except ValueError:
        return None
    return minutes if minutes is not None and 0 <= minutes < 10_000 else None


def _filters() -> CallFilters | None:
    """The filters the widgets hold; None (with the reason shown) when they make no sense."""
    state = st.session_state
    first, last = state.get("call_list.from"), state.get("call_list.to")
    low, high = state.get("call_list.min"), state.get("call_list.max")
    try:
        return CallFilters(
            agent_id=state.get("call_list.agent") or None,
            team=None if state.get("call_list.team", _ANY) == _ANY else state["call_list.team"],
            customer=(state.get("call_list.customer") or "").strip() or None,
            started_from=local_midnight(first) if first else None,
            started_before=local_midnight(last + timedelta(days=1)) if last else None,
            direction=None
            if state.get("call_list.direction", _ANY) == _ANY
            else state["call_list.direction"],
            min_duration=60 * low if low is not None else None,
            max_duration=60 * high if high is not None else None,
            unscored=bool(state.get("call_list.unscored")),
            disputed=bool(state.get("call_list.disputed")),
            flagged=bool(state.get("call_list.flagged")),
            assigned_to=who.user_id if state.get("call_list.mine") else None,
            tracker_id=state.get("call_list.tracker") or None,
        )
    except InvalidValue as error:
        show_error(error)
        return None


def _filter_widgets() -> None:
    agents = {a.id: a.name for a in list_agents(db, who)}
    teams = list_teams(db, who)
    if st.session_state.get("call_list.agent", _ANY_AGENT) not in (_ANY_AGENT, *agents):
        st.session_state["call_list.agent"] = _ANY_AGENT  # a link's agent that is no more
    if st.session_state.get("call_list.team", _ANY) not in (_ANY, *teams):
        st.session_state["call_list.team"] = _ANY  # a link's team that is no more
    zone = display_zone().key
    # Agent and customer always show; the rest fold into "More filters", so that on a phone (where
    # columns stack, one widget a screen row) the first screen still reaches the calls.
    top = st.columns([1, 1.5])
    top[0].selectbox(
        "Agent",
        [_ANY_AGENT, *agents],
        format_func=lambda a: "Any agent" if a == _ANY_AGENT else agents[a],
        key="call_list.agent",
    )
    top[1].text_input("Customer", key="call_list.customer", placeholder="Name, phone, e-mail or number")
    trackers = {t.id: t.name for t in list_trackers(db, who)}
    if st.session_state.get("call_list.tracker", _ANY_TRACKER) not in (_ANY_TRACKER, *trackers):
        st.session_state["call_list.tracker"] = _ANY_TRACKER  # a link's tracker that is no more
    active = _more_filters_active()
    label = "More filters" + (f" ({active} active)" if active else "")
    # Open when one of them is set (a link that names one shows it); the label counts them closed.
    with st.expander(label, expanded=bool(active), icon=":material/tune:"):
        when_row = st.columns(4)
        when_row[0].date_input("From", value=None, key="call_list.from", help=f"Days in {zone}")
        when_row[1].date_input(
            "To", value=None, key="call_list.to", help=f"Days in {zone}, this day included"
        )
        when_row[2].selectbox(
            "Direction",
            [_ANY, *DIRECTIONS],
            format_func=lambda d: "Any direction" if d == _ANY else d.title(),
            key="call_list.direction",
        )
        when_row[3].selectbox(
            "Team", [_ANY, *teams], format_func=lambda t: "Any team" if t == _ANY else t, key="call_list.team"
        )
        what_row = st.columns([0.8, 0.8, 1.1, 1, 1.1, 0.9])
        what_row[0].number_input("Min. minutes", min_value=0.0, value=None, step=1.0, key="call_list.min")
        what_row[1].number_input("Max. minutes", min_value=0.0, value=None, step=1.0, key="call_list.max")
        what_row[2].selectbox(
            "Tracker",
            [_ANY_TRACKER, *trackers],
            format_func=lambda t: "Any tracker" if t == _ANY_TRACKER else trackers[t],
            key="call_list.tracker",
            help="Only the calls a tracker (a saved search, `earshot tracker add`) tagged",
        )
        what_row[3].selectbox(
            "Sort by", CALL_SORTS, format_func=lambda s: _SORT_NAMES[s], key="call_list.sort"
        )
        what_row[4].selectbox("Order", ["Descending", "Ascending"], key="call_list.order")
        st.session_state.setdefault("call_list.size", 25)
        what_row[5].selectbox("Calls a page", _PAGE_SIZES, key="call_list.size")


def _more_filters_active() -> int:
    """How many of the filters folded into "More filters" are set (sort and page size are no filters)."""
    state = st.session_state
    keys = ("call_list.from", "call_list.to", "call_list.min", "call_list.max")
    chosen = sum(state.get(key) is not None for key in keys)
    chosen += state.get("call_list.direction", _ANY) != _ANY
    chosen += state.get("call_list.team", _ANY) != _ANY
    return chosen + bool(state.get("call_list.tracker"))


def _asked(filters: CallFilters) -> tuple[object, ...]:
    state = st.session_state
    return (filters, state["call_list.sort"], state["call_list.order"], state["call_list.size"])


def _page_number(asked: tuple[object, ...]) -> int:
    """The page shown: back to the first whenever the filters, sort or size change."""
    if st.session_state.get("call_list.asked") != asked:
        if "call_list.asked" in st.session_state:
            st.session_state["call_list.page"] = 1
        st.session_state["call_list.asked"] = asked
    return max(1, int(st.session_state.get("call_list.page", 1)))


def _load(filters: CallFilters, number: int) -> CallListPage:
    state = st.session_state
    size = int(state["call_list.size"])
    sort: CallSort = state["call_list.sort"]
    key = (*_asked(filters), number)
    kept = state.get(_RESULT)
    if kept is None or kept[0] != key:
        page = list_call_page(
            db,
            who,
            filters,
            sort=sort,
            descending=state["call_list.order"] == "Descending",
            limit=size,
            offset=(number - 1) * size,
        )
        kept = state[_RESULT] = (key, page)
    return kept[1]


def _show_in_address(filters: CallFilters, number: int) -> None:
    state = st.session_state
    first, last = state.get("call_list.from"), state.get("call_list.to")
    low, high = state.get("call_list.min"), state.get("call_list.max")
    context.show_in_address(
        _PAGE,
        agent=filters.agent_id,
        team=filters.team,
        customer=filters.customer,
        **{"from": first.isoformat() if first else None, "to": last.isoformat() if last else None},
        direction=filters.direction,
        min=low,
        max=high,
        unscored="1" if filters.unscored else None,
        disputed="1" if filters.disputed else None,
        flagged="1" if filters.flagged else None,
        tracker=filters.tracker_id,
        mine="1" if filters.assigned_to is not None else None,
        sort=None if state["call_list.sort"] == "started" else state["call_list.sort"],
        order="asc" if state["call_list.order"] == "Ascending" else None,
        size=None if state["call_list.size"] == 25 else state["call_list.size"],
        page=number if number > 1 else None,
    )


def _table(page: CallListPage) -> None:
    """The calls as a table of text: every value from outside escaped, each call a link to it."""
    zone = display_zone().key
    lines = [
        f"| Call | Started ({md(zone)}) | Agent | Customer | Duration | Direction | Evaluations "
        "| Assigned to |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for call in page.calls:
        link = context.address_of(context.CALL_PAGE, id=call.id)
        cells = [
            f"[Call {call.id}]({link})",
            md(when(call.started_at)),
            md(call.agent or "no agent"),
            md(call.customer or "unknown customer"),
            md(clock(call.duration)),
            md((call.direction or "—").title()),
            (str(call.evaluations) if call.evaluations else ":orange-badge[unscored]")
            + (" :red-badge[disputed]" if call.disputed else "")
            + (" :violet-badge[flagged]" if call.flagged else ""),
            md(call.assignee or "—"),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    # The key names the table for theme.css, which lays it out as one block per call on a phone.
    st.container(key="call_table").markdown("\n".join(lines))


def _pager(page: CallListPage, number: int) -> None:
    shown = f"Calls {page.offset + 1}–{page.offset + len(page.calls)}" if page.calls else "No calls"
    left, middle, right = st.columns([1, 2, 1])
    if left.button("Previous page", icon=":material/chevron_left:", disabled=number <= 1, width="stretch"):
        st.session_state["call_list.page"] = number - 1
        st.rerun()
    middle.caption(f"{shown} · page {number}" + ("" if page.has_more else " (last)"))
    if right.button(
        "Next page", icon=":material/chevron_right:", disabled=not page.has_more, width="stretch"
    ):
        st.session_state["call_list.page"] = number + 1
        st.rerun()


def _actions(filters: CallFilters) -> DeltaGenerator:
    """Only unscored, disputed, flagged or one's own calls, the next call to review and a refresh, in
    one row above the list; returns the row (the bulk assignment joins it once the page is read)."""
    # A row that wraps rather than columns that stack: on a phone two or three a line, not one each.
    row = st.container(horizontal=True, vertical_alignment="center", gap="medium")
    # Short labels: at 1366 px a longer one is cut beside its help icon ("Disputed …").
    row.toggle("Unscored", key="call_list.unscored", help="Calls no coach has started scoring")
    row.toggle("Disputed", key="call_list.disputed", help="Calls with an open dispute")
    row.toggle(
        "Flagged",
        key="call_list.flagged",
        help="Calls flagged for review: their redacted audio may still give away what was redacted, "
        "so only compliance and admins open them until reviewed",
    )
    row.toggle("Assigned to me", key="call_list.mine")
    pick = allows(who, Permission.SCORE_CALLS) and row.button(
        "Next call to review",
        type="primary",
        icon=":material/shuffle:",
        help="An unscored call that matches the filters: one assigned to you first; else from the agent "
        "with the fewest scored calls in the period, drawn at random among theirs",
    )
    if row.button("Refresh", icon=":material/refresh:", key="call_list.refresh"):
        st.session_state.pop(_RESULT, None)
    if pick:
        chosen = next_call_to_review(db, who, filters)
        if chosen is None:
            st.session_state[_EMPTY] = True
        else:
            st.session_state.pop(_RESULT, None)  # back from scoring it, the list is read again
            context.open_call(chosen.id)
    if st.session_state.pop(_EMPTY, False):
        st.info("No unscored call matches these filters.")
    return row


def _bulk_assignment(page: CallListPage, row: DeltaGenerator) -> None:
    """Several calls of this page given to a coach (or to nobody) in one step: all of them or none,
    each audited (``storage.assignments.assign_calls``)."""
    if not allows(who, Permission.SCORE_CALLS) or not page.calls:
        return
    with row.popover("Assign calls", icon=":material/assignment_ind:"):
        calls = {call.id: call for call in page.calls}
        chosen = st.multiselect(
            "Calls",
            list(calls),
            format_func=lambda c: (
                f"Call {c} · {calls[c].customer or 'unknown customer'} · {calls[c].agent or 'no agent'}"
            ),
            placeholder="Choose calls of this page",
            key="call_list.bulk_calls",
        )
        reviewers = {r.user_id: r.username for r in list_reviewers(db, who)}
        coach = st.selectbox(
            "Coach",
            [None, *reviewers],
            format_func=lambda user_id: "Nobody" if user_id is None else reviewers[user_id],
            key="call_list.bulk_coach",
        )
        if st.button("Assign", icon=":material/save:", disabled=not chosen, key="call_list.bulk_assign"):
            try:
                assign_calls(db, who, chosen, coach)
            except (InvalidValue, NotFound, PermissionDenied) as error:
                show_error(error)
            else:
                st.session_state.pop(_RESULT, None)  # the list shows the new assignee
                st.session_state.pop("call_list.bulk_calls", None)
                st.rerun()


_take_link()
st.title("Call list")
tracker_alerts(db, who)
_filter_widgets()
st.session_state.setdefault("call_list.unscored", False)
st.session_state.setdefault("call_list.disputed", False)
st.session_state.setdefault("call_list.flagged", False)
st.session_state.setdefault("call_list.mine", False)
filters = _filters()
if filters is None:
    st.stop()
actions = _actions(filters)
number = _page_number(_asked(filters))
try:
    page = _load(filters, number)
except InvalidValue as error:
    show_error(error)
    st.stop()
_show_in_address(filters, number)
if not page.calls and number == 1:
    st.caption("No calls match these filters.")
else:
    _bulk_assignment(page, actions)
    _table(page)
_pager(page, number)
