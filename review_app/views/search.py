"""Search: every transcript, with the full query language, filters, highlighted hits and saved searches.

A search runs (and is audited) when the form is submitted or a saved search is run, never on a
mere rerun; its page of results is kept in the session until the next search.
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from review_app import context
from review_app.formatting import channel_name
from review_app.hits import show_hits
from review_app.safe_text import md, show_error
from storage import guarded
from storage.access import Permission
from storage.errors import InvalidValue, NotFound
from storage.limits import SAVED_SEARCH_NAME_MAX_CHARS
from storage.query import QueryError
from storage.saved_searches import SavedSearch, delete_saved_search, list_saved_searches, save_search
from storage.search import SearchFilters, SearchPage, channels_in_use
from transcribe.types import ROLES

_PAGE_SIZE = 25
_PAGE = "views/search.py"
_RESULT = "search.result"  # (query, filters, SearchPage)
_SYNTAX_HELP = """
- `refund late fee`: all of these words
- `"late fee"`: the exact phrase · `refund*`: words starting with "refund"
- `refund OR chargeback`, `refund NOT voucher`, `refund -voucher`
- `(refund OR chargeback) -voucher`: group with parentheses
- `NEAR(cancel contract, 5)`: within 5 words of each other

Operators are upper case: lower-case *and*, *or*, *not* are ordinary words.
"""

who = context.require_page(Permission.SEARCH_ALL)
db = context.database()


def _filters() -> SearchFilters:
    dates: tuple[date, ...] = tuple(st.session_state.get("search.dates") or ())
    role = st.session_state.get("search.role")
    return SearchFilters(
        speaker_role=role if role in ROLES else None,
        customer=(st.session_state.get("search.customer") or "").strip() or None,
        agent=(st.session_state.get("search.agent") or "").strip() or None,
        date_from=dates[0] if len(dates) > 0 else None,
        date_to=dates[1] if len(dates) > 1 else (dates[0] if len(dates) == 1 else None),
        channel=st.session_state.get("search.channel"),
    )


def _run(query: str, filters: SearchFilters, offset: int = 0) -> None:
    try:
        page = guarded.search(db, who, query, filters, limit=_PAGE_SIZE, offset=offset)
    except (QueryError, InvalidValue) as error:
        st.session_state["search.error"] = str(error)
        st.session_state.pop(_RESULT, None)
        return
    st.session_state.pop("search.error", None)
    st.session_state[_RESULT] = (query, filters, page)


def _load_saved(saved: SavedSearch) -> None:
    """A button callback: widgets take their values before they are drawn in the next run."""
    filters = saved.filters
    st.session_state["search.query"] = saved.query
    st.session_state["search.role"] = filters.speaker_role or "any"
    st.session_state["search.customer"] = filters.customer or ""
    st.session_state["search.agent"] = filters.agent or ""
    st.session_state["search.channel"] = filters.channel
    st.session_state["search.dates"] = tuple(d for d in (filters.date_from, filters.date_to) if d is not None)
    _run(saved.query, filters)


def _show_in_address(query: str, filters: SearchFilters) -> None:
    """The search and its filters in the address bar: a reload or a copied link runs it again."""
    context.show_in_address(
        _PAGE,
        q=query,
        channel=filters.channel,
        said_by=filters.speaker_role,
        agent=filters.agent,
        customer=filters.customer,
        date_from=filters.date_from.isoformat() if filters.date_from else None,
        date_to=filters.date_to.isoformat() if filters.date_to else None,
    )


def _take_link() -> None:
    """Fill the form from a link's query (``?q=refund&channel=chat``) and run it."""
    link = context.link_request(_PAGE)
    if not link or not link.get("q"):
        return
    try:
        dates = tuple(date.fromisoformat(link[k]) for k in ("date_from", "date_to") if link.get(k))
    except ValueError:
        dates = ()
    st.session_state["search.query"] = link["q"]
    st.session_state["search.channel"] = link.get("channel")
    st.session_state["search.role"] = link.get("said_by", "any")
    st.session_state["search.agent"] = link.get("agent", "")
    st.session_state["search.customer"] = link.get("customer", "")
    st.session_state["search.dates"] = dates
    try:
        filters = _filters()
    except InvalidValue as error:
        st.session_state["search.error"] = str(error)
        return
    _run(link["q"], filters)


def _delete_saved(saved: SavedSearch) -> None:
    try:
        delete_saved_search(db, who, saved.id)
    except NotFound as error:
        st.session_state["search.error"] = str(error)


_take_link()
channels = channels_in_use(db)
if st.session_state.get("search.channel") not in (None, *channels):
    st.session_state["search.channel"] = None  # a link's channel that the data does not hold
st.title("Search")
main, side = st.columns([3, 1], gap="large")

with main:
    with st.form("search", border=True):
        query_column, help_column = st.columns([12, 1], vertical_alignment="bottom")
        query_column.text_input(
            "Search every call, chat and e-mail",
            placeholder='refund NOT voucher, "cancel my contract", NEAR(price increase, 5)',
            key="search.query",
        )
        with help_column.popover("", icon=":material/help:"):
            st.markdown(_SYNTAX_HELP)
        # Two rows: five in one were cut to "Choos" and "anyon" at 1366 px beside the saved searches.
        channel, role, dates = st.columns([1, 1, 1.6])
        agent, customer = st.columns([1, 1.6])
        channel.selectbox(
            "Channel",
            [None, *channels],
            key="search.channel",
            format_func=lambda c: "all" if c is None else channel_name(c),  # options are plain text
        )
        role.selectbox(
            "Said by", ["any", *ROLES], key="search.role", format_func=lambda r: "anyone" if r == "any" else r
        )
        agent.text_input("Agent", key="search.agent", placeholder="name")
        customer.text_input("Customer", key="search.customer", placeholder="name, phone, e-mail, number")
        dates.date_input(
            "Date range", value=[], key="search.dates", max_value=date.today(), format="YYYY-MM-DD"
        )
        submitted = st.form_submit_button("Search", type="primary", icon=":material/search:")
    if submitted:
        _run(st.session_state.get("search.query", ""), _filters())

    if "search.error" in st.session_state:
        st.error(md(st.session_state["search.error"]))
    result: tuple[str, SearchFilters, SearchPage] | None = st.session_state.get(_RESULT)
    if result is not None:
        query, filters, page = result
        _show_in_address(query, filters)
        first = page.offset + 1
        if not page.hits:
            st.info(f"Nothing said or written matches “{md(query)}” with these filters.")
        else:
            among = (
                f" among the {page.ranked_newest:,} most recent matches (narrow it for older ones)"
                if page.ranked_newest
                else ""
            )
            st.caption(
                f"Results {first}–{page.offset + len(page.hits)} for **{md(query)}**, best match first{among}"
            )
        show_hits(page.hits, with_customer=True)
        previous, _, following = st.columns([1, 4, 1])
        if page.offset > 0 and previous.button("Previous", icon=":material/chevron_left:"):
            _run(query, filters, max(0, page.offset - _PAGE_SIZE))
            st.rerun()
        if page.has_more and following.button("Next", icon=":material/chevron_right:"):
            _run(query, filters, page.offset + _PAGE_SIZE)
            st.rerun()

with side:
    st.subheader("Saved searches")
    saved_searches = list_saved_searches(db, who)
    if not saved_searches:
        st.caption("None yet. Run a search, then save it here.")
    for saved in saved_searches:
        run_column, delete_column = st.columns([5, 1], vertical_alignment="center")
        run_column.button(
            md(saved.name),
            key=f"saved-{saved.id}",
            help=md(saved.query),
            on_click=_load_saved,
            args=(saved,),
            width="stretch",
            icon=":material/bookmark:",
        )
        delete_column.button(
            "",
            key=f"delete-{saved.id}",
            icon=":material/delete:",
            on_click=_delete_saved,
            args=(saved,),
            help="Delete",
        )
    if result is not None:
        with st.form("save-search", clear_on_submit=True, border=False):
            name = st.text_input(
                "Save this search as",
                placeholder="e.g. Refund promises",
                max_chars=SAVED_SEARCH_NAME_MAX_CHARS,
            )
            if st.form_submit_button("Save", icon=":material/bookmark_add:"):
                try:
                    save_search(db, who, name, result[0], result[1])
                except (QueryError, InvalidValue) as error:
                    show_error(error)
                else:
                    st.rerun()
