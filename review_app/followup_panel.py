"""Follow-ups in the pages: a table of them, and a conversation's follow-ups with a small form to add
one (the call page, and a call, chat or e-mail thread in the customer history).

Each read of follow-ups is audited, and Streamlit reruns a page on every click: reads are kept in
the session until a follow-up is added or done. A follow-up's text came from a person: it is shown in
a table cell, which is never markup.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, time, timedelta

import streamlit as st

from review_app.formatting import display_zone, zoned_column
from review_app.safe_text import show_error
from storage.access import Principal
from storage.db import Database
from storage.errors import InvalidValue, NotFound, PermissionDenied
from storage.followups import (
    LIMITS,
    Assignee,
    FollowUpView,
    add_followup,
    conversation_followups,
    conversation_of_call,
    list_assignees,
)
from storage.models import utc_now

__all__ = [
    "call_panel",
    "conversation_panel",
    "followups_table",
    "forget_followups",
    "kept_assignees",
    "kept_followups",
]

_KEPT = "followups.kept"
_ASSIGNEES = "followups.assignees"
_CALL_THREADS = "followups.call_threads"  # recording id -> its conversation, read once
_DEFAULT_DUE_AT = time(17, 0)  # a day's follow-up is due by the end of the working day


def kept_followups(key: tuple[object, ...], read: Callable[[], list[FollowUpView]]) -> list[FollowUpView]:
    """``read()`` once per ``key`` until ``forget_followups``."""
    kept = st.session_state.setdefault(_KEPT, {})
    if key not in kept:
        kept[key] = read()
    return kept[key]


def forget_followups() -> None:
    """After a change: every page reads its follow-ups afresh."""
    st.session_state.pop(_KEPT, None)


def _state(followup: FollowUpView, now: datetime) -> str:
    if followup.done_at is not None:
        return f"Done by {followup.done_by}"
    return "Overdue" if followup.overdue(now) else "Open"


def followups_table(found: Sequence[FollowUpView], key: str) -> None:
    """Follow-ups as one table (text cells, never markup), in the order listed (overdue first)."""
    now = utc_now()
    st.dataframe(
        [{"State": _state(f, now), "Due": f.due_at, "What": f.what, "For": f.assignee} for f in found],
        hide_index=True,
        width="stretch",
        column_config={
            "State": st.column_config.TextColumn("State", width="small"),
            "Due": zoned_column("Due", "D MMM YYYY, HH:mm"),
            "What": st.column_config.TextColumn("What", width="large"),
        },
        key=key,
    )


def conversation_panel(db: Database, who: Principal, thread_id: int, place: str) -> None:
    """A conversation's follow-ups, and a form to add one (for the signed-in user unless chosen)."""
    found = kept_followups(("thread", thread_id), lambda: conversation_followups(db, who, thread_id))
    if found:
        followups_table(found, f"{place}-followups-{thread_id}")
    else:
        st.caption("No follow-ups on this conversation yet.")
    assignees = kept_assignees(db, who)
    mine = next((i for i, a in enumerate(assignees) if a.user_id == who.user_id), 0)
    tomorrow = (utc_now().astimezone(display_zone()) + timedelta(days=1)).date()
    with st.form(f"{place}-followup-{thread_id}", clear_on_submit=True, border=False):
        what = st.text_input(
            "Follow-up", max_chars=LIMITS.what_max_chars, placeholder="What is to be done next"
        )
        day_column, time_column = st.columns(2)
        day = day_column.date_input("Due", value=tomorrow, format="YYYY-MM-DD")
        at = time_column.time_input("At", value=_DEFAULT_DUE_AT, help=f"In {display_zone().key} time")
        for_whom = st.selectbox("For", assignees, index=mine, format_func=lambda a: a.name)
        if st.form_submit_button("Add follow-up", icon=":material/add_task:"):
            try:
                due = datetime.combine(day, at, display_zone())  # type: ignore[arg-type]
                add_followup(db, who, thread_id, what, due, for_whom)
            except (InvalidValue, NotFound, PermissionDenied) as error:
                show_error(error)
            else:
                forget_followups()
                st.rerun()


def call_panel(db: Database, who: Principal, recording_id: int) -> None:
    """The call page's follow-ups: those of the conversation the call is."""
    thread_id = st.session_state.setdefault(_CALL_THREADS, {}).get(recording_id)
    if thread_id is None:
        thread_id = st.session_state[_CALL_THREADS][recording_id] = conversation_of_call(db, recording_id)
    conversation_panel(db, who, thread_id, "call")


def kept_assignees(db: Database, who: Principal) -> list[Assignee]:
    """Whom a follow-up can be for: read once a session (accounts, not a person's data)."""
    if _ASSIGNEES not in st.session_state:
        st.session_state[_ASSIGNEES] = list_assignees(db, who)
    return st.session_state[_ASSIGNEES]
