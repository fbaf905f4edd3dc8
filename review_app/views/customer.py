"""Customers: look someone up by whatever is at hand and read their whole history on every channel.

The timeline is one table (one widget, however long the history); choosing a row shows that
conversation below: a chat or e-mail thread as messages, a call as its speakers' turns like a chat,
each turn's time opening the player at that moment.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from functools import partial
from typing import Concatenate, ParamSpec, TypeVar

import streamlit as st

from review_app import context
from review_app.config import app_settings
from review_app.followup_panel import conversation_panel, followups_table, kept_followups
from review_app.formatting import (
    channel_name,
    clock,
    counted,
    speaker_names,
    speaker_turns,
    when,
    zoned_column,
)
from review_app.hits import show_hits
from review_app.reasons_panel import contact_reasons_panel
from review_app.safe_text import md, show_error
from review_app.survey_badges import show_answers
from storage import guarded
from storage.access import Permission, Principal
from storage.customer_agents import agents_of_customer
from storage.customers_view import (
    CustomerMatch,
    TimelineItem,
    customer_profile,
    customer_timeline,
    find_customers,
    thread_messages,
)
from storage.db import Database
from storage.errors import InvalidValue, NotFound
from storage.followups import customer_followups
from storage.query import QueryError
from storage.search import SearchFilters
from storage.survey_answers import answers_of_conversations
from transcribe.types import Transcript

_SELECTED = "customer.id"
_KEPT = "customer.kept"  # what this page read, by service and arguments
_OPENED_THREAD = "customer.thread"  # a conversation another page opened (a search hit)
# Rows tall enough for the grid to wrap a cell's text (it wraps above 4 rem): "About" reads whole,
# not cut at the column's edge.
_TIMELINE_ROW = 72
_TIMELINE_HEADER = 38
_TIMELINE_MAX_HEIGHT = 560
# Px: "6 May 2024, 09:30" whole; with "About" (medium, 200 px) right after it, both fit a 390 px
# phone beside the row marker, and a laptop's wider table stretches them.
_WHEN_WIDTH = 112
_TURNS_SHOWN = 40  # a call's first turns in the history; the rest on request
_CHANNEL_ICONS = {"call": ":material/call:", "chat": ":material/chat:", "email": ":material/mail:"}
_TILE_LABELS = {"call": "Calls", "chat": "Chats", "email": "E-mail threads"}
_TILE_WIDTH = 150  # px: "E-mail threads" and a four-digit count
_IDENTITY_LABELS = {
    "phone": "Phone",
    "email": "E-mail",
    "customer_number": "Customer no.",
    "chat_handle": "Chat",
}

T = TypeVar("T")
P = ParamSpec("P")


def _kept(read: Callable[Concatenate[Database, Principal, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``read(db, who, ...)`` once, then kept: Streamlit reruns the page on every click, and each read
    of a person's data writes an audit row. A new lookup, or a customer opened from another page,
    reads afresh."""
    kept = st.session_state.setdefault(_KEPT, {})
    key = (read.__name__, args, tuple(sorted(kwargs.items())))
    if key not in kept:
        kept[key] = read(db, who, *args, **kwargs)
    return kept[key]


def _read_afresh() -> None:
    st.session_state.pop(_KEPT, None)


who = context.require_page(Permission.LOOKUP_CUSTOMERS)
db = context.database()

requested = context.take_customer_request()
if requested is not None:
    _read_afresh()
    st.session_state[_SELECTED] = requested.customer_id
    st.session_state[_OPENED_THREAD] = requested.thread_id

st.title("Customers")
query = st.text_input(
    "Look up a customer",
    placeholder="Phone number in any format, e-mail, customer number or name",
    key="customer.query",
    icon=":material/search:",
    on_change=_read_afresh,
)


def _match_label(match: CustomerMatch) -> str:
    identities = ", ".join(i.raw_value for i in match.identities[:3])
    return md(
        f"{match.display_name or 'Unnamed customer'} · {identities} · {match.conversations} conversation(s)"
    )


if query.strip():
    try:
        matches = _kept(find_customers, query, app_settings().default_region)
    except InvalidValue as error:
        show_error(error)
        matches = []
    if not matches:
        st.warning(f"No customer matches “{md(query)}”.")
        st.session_state.pop(_SELECTED, None)  # not the history of whoever was looked up before
        st.stop()
    elif len(matches) == 1:
        st.session_state[_SELECTED] = matches[0].id
    else:
        ids = [m.id for m in matches]
        current = st.session_state.get(_SELECTED)
        choice = st.radio(
            f"{len(matches)} customers match",
            matches,
            index=ids.index(current) if current in ids else 0,
            format_func=_match_label,
        )
        st.session_state[_SELECTED] = choice.id

customer_id = st.session_state.get(_SELECTED)
if customer_id is None:
    st.caption(
        "Type a phone number (+31 6 1234 5678, 06-12345678 and 0612345678 all work), "
        "an e-mail, a customer number or a name."
    )
    st.stop()

try:
    profile = _kept(customer_profile, customer_id)
    timeline = _kept(customer_timeline, customer_id)
    known_by = _kept(agents_of_customer, customer_id)
except NotFound as error:
    show_error(error)
    st.stop()


def _call_turns(transcript: Transcript, recording_id: int, place: str) -> None:
    """A call's transcript as a conversation, turn by turn like a chat; a turn's time opens the call
    there. Long calls show their first turns until asked for all: each turn is a few widgets."""
    names = speaker_names(transcript.speakers)
    roles = {s.label: s.role for s in transcript.speakers}
    turns = speaker_turns(transcript)
    everything = f"{place}-all-turns-{recording_id}"
    shown = turns if st.session_state.get(everything) else turns[:_TURNS_SHOWN]
    st.caption("Choose a turn's time to open the call at that moment.")
    for index, turn in enumerate(shown):
        customer = roles.get(turn.speaker) == "customer"
        with st.chat_message(
            "user" if customer else "assistant",
            avatar=":material/person:" if customer else ":material/support_agent:",
        ):
            name, moment = st.columns([4, 1], vertical_alignment="center")
            name.caption(md(names[turn.speaker]))
            if moment.button(
                clock(turn.start),
                key=f"{place}-turn-{recording_id}-{index}",
                icon=":material/play_arrow:",
                type="tertiary",
                help=f"Open the call at {clock(turn.start)}",
            ):
                context.open_call(recording_id, turn.start)
            st.text(turn.text)
    if len(shown) < len(turns):
        if st.button(
            f"Show all {len(turns)} turns", key=f"{place}-more-{recording_id}", icon=":material/expand_more:"
        ):
            st.session_state[everything] = True
            st.rerun()


def _conversation(item: TimelineItem, place: str) -> None:
    """One conversation of the timeline: a call's transcript (a turn opens the player there) or a
    chat's or e-mail thread's messages."""
    st.markdown(
        "#### "
        + md(f"{channel_name(item.channel)} · {when(item.at)}" + (f" · {item.agent}" if item.agent else ""))
    )
    if item.subject:
        st.caption(md(item.subject))
    show_answers(_kept(answers_of_conversations, (item.thread_id,)).get(item.thread_id, ()))
    if item.recording_id is not None:
        if st.button(
            "Open in player",
            type="primary",
            icon=":material/play_circle:",
            key=f"{place}-open-{item.recording_id}",
        ):
            context.open_call(item.recording_id, 0.0)
        try:
            transcript = _kept(guarded.view_transcript, item.recording_id)
        except NotFound:
            transcript = None
        if transcript is None:
            st.caption("This call is not transcribed yet.")
        else:
            _call_turns(transcript, item.recording_id, place)
    else:
        for message in _kept(thread_messages, item.thread_id):
            inbound = message.direction == "inbound"
            with st.chat_message(
                "user" if inbound else "assistant",
                avatar=":material/person:" if inbound else ":material/support_agent:",
            ):
                st.caption(
                    md(f"{message.author or ('Customer' if inbound else 'Agent')} · {when(message.sent_at)}")
                )
                st.text(message.body)
                if message.quoted:
                    with st.expander("Quoted text"):
                        st.text(message.quoted)
    contact_reasons_panel(db, who, item.thread_id, place)
    with st.expander("Follow-ups", icon=":material/add_task:"):
        conversation_panel(db, who, item.thread_id, place)


st.divider()
st.markdown(f"## {md(profile.display_name or 'Unnamed customer')}")
st.markdown(
    "  ".join(
        f":gray-badge[{md(_IDENTITY_LABELS.get(i.kind, i.kind))}: {md(i.raw_value)}]"
        for i in profile.identities
    )
    or ":gray-badge[no identities]"
)
# Calls, chats and e-mails always, then every other channel this customer used (WhatsApp, SMS...).
counts = Counter(item.channel for item in timeline)
tiles = [*_TILE_LABELS, *sorted(set(counts) - set(_TILE_LABELS))]
# Fixed-width tiles in a row that wraps: side by side on a laptop, two a row on a phone.
with st.container(horizontal=True, gap="medium"):
    for channel in tiles:
        st.metric(_TILE_LABELS.get(channel) or md(channel_name(channel)), counts[channel], width=_TILE_WIDTH)
    st.metric("Last contact", when(timeline[0].at).split(",")[0] if timeline else "—", width="content")

opened = st.session_state.get(_OPENED_THREAD)
opened_item = next((item for item in timeline if item.thread_id == opened), None)
context.show_in_address(
    context.CUSTOMER_PAGE, id=customer_id, thread=opened_item.thread_id if opened_item else None
)
if opened_item is not None:
    with st.container(border=True):
        if st.button("Close", icon=":material/close:", key="close-opened"):
            st.session_state[_OPENED_THREAD] = None
            st.rerun()
        _conversation(opened_item, "opened")

history, known_tab, search_tab, followups_tab = st.tabs(
    ["History", "Who knows this customer", "Search this history", "Follow-ups"]
)

with history:
    channels = sorted({item.channel for item in timeline})
    shown_channels = st.pills(
        "Channels",
        channels,
        selection_mode="multi",
        default=channels,
        format_func=lambda c: f"{_CHANNEL_ICONS.get(c, ':material/forum:')} {md(channel_name(c))}",
        key=f"channels-{customer_id}",
    )
    items = [item for item in timeline if item.channel in (shown_channels or channels)]

    def _length(item: TimelineItem) -> str:
        if item.duration is not None:
            return clock(item.duration)
        return counted(item.messages, "message")

    selection = st.dataframe(
        [
            {
                "When": item.at,
                "About": item.subject or item.preview or "",
                "Channel": channel_name(item.channel),
                "Direction": (item.direction or "").title(),
                "Agent": item.agent or "",
                "Length": _length(item),
            }
            for item in items
        ],
        hide_index=True,
        width="stretch",
        height=min(_TIMELINE_MAX_HEIGHT, _TIMELINE_HEADER + _TIMELINE_ROW * max(1, len(items))),
        row_height=_TIMELINE_ROW,
        on_select="rerun",
        selection_mode="single-row",
        column_config={
            "When": zoned_column("When", "D MMM YYYY, HH:mm", width=_WHEN_WIDTH),
            "About": st.column_config.TextColumn("About", width="medium"),
            "Channel": st.column_config.TextColumn("Channel", width="small"),
            "Direction": st.column_config.TextColumn("Direction", width="small"),
            "Agent": st.column_config.TextColumn("Agent", width="small"),
            "Length": st.column_config.TextColumn("Length", width="small"),
        },
        key=f"timeline-{customer_id}",
    )
    rows = selection.selection.rows if selection else []
    if not items:
        st.caption("No conversations on these channels.")
    elif not rows:
        st.caption("Choose a conversation to read it here.")
    else:
        _conversation(items[rows[0]], "selected")

# Who knows this customer: the agents who handled them, the most recent first; a table, so every
# cell is text, never markup. A tab after the history: the timeline stays the page's first table.
with known_tab:
    if not known_by:
        st.caption("No agent has handled this customer's conversations yet.")
    else:
        st.dataframe(
            [
                {
                    "Agent": agent.name + (f" ({agent.team})" if agent.team else ""),
                    "Contacts": agent.contacts,
                    "Last contact": agent.last_contact,
                    "Channels": ", ".join(f"{channel_name(c)} {n}" for c, n in agent.channels),
                }
                for agent in known_by
            ],
            hide_index=True,
            width="stretch",
            column_config={
                "Last contact": zoned_column("Last contact", "D MMM YYYY, HH:mm"),
                "Contacts": st.column_config.NumberColumn("Contacts", width="small"),
            },
            key=f"known-by-{customer_id}",
        )

with search_tab:
    with st.form(f"customer-search-{customer_id}", border=False):
        text = st.text_input("Words or phrases", placeholder='refund, "money back", cancel*')
        run = st.form_submit_button("Search", icon=":material/search:")
    results = st.session_state.setdefault("customer.search", {})
    if run and text.strip():
        try:
            results[customer_id] = (
                text,
                guarded.search(db, who, text, SearchFilters(), customer_id=customer_id),
            )
        except (QueryError, InvalidValue) as error:
            show_error(error)
    if customer_id in results:
        text, page = results[customer_id]
        if not page.hits:
            st.caption(f"Nothing in this customer's history matches “{md(text)}”.")
        show_hits(page.hits, with_customer=False)

with followups_tab:
    next_steps = kept_followups(("customer", customer_id), partial(customer_followups, db, who, customer_id))
    if next_steps:
        followups_table(next_steps, f"customer-followups-{customer_id}")
    else:
        st.caption("No follow-ups on this customer's conversations. Add one from a conversation.")
