"""My follow-ups: the signed-in user's next steps on every conversation, overdue first. Coaches and
above may look at anyone's, or everyone's. Each can be marked done or open its conversation; the
text is a person's, shown with ``st.text`` (never markup)."""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from review_app import context
from review_app.followup_panel import forget_followups, kept_assignees, kept_followups
from review_app.formatting import channel_name, counted, when
from review_app.safe_text import md, show_error
from storage.access import Permission, allows
from storage.errors import InvalidValue, NotFound, PermissionDenied
from storage.followups import (
    Assignee,
    FollowUpStatus,
    FollowUpView,
    assignee_of,
    complete_followup,
    list_followups,
)
from storage.models import utc_now

_EVERYONE = "Everyone"
_SHOWN = 50  # the first follow-ups; the rest on request (each is a few widgets)
_EVERYTHING = "followups.everything"  # the list for which all were asked for
_STATUSES: dict[str, FollowUpStatus] = {"Open": "open", "Done": "done", "All": "all"}


def _badge(followup: FollowUpView, now: datetime) -> str:
    if followup.done_at is not None:
        return ":green-badge[Done]"
    return ":red-badge[Overdue]" if followup.overdue(now) else ":blue-badge[Open]"


who = context.require_page(Permission.LOOKUP_CUSTOMERS)
db = context.database()

st.title("My follow-ups")
me = assignee_of(who)
whose: Assignee | None = me
if allows(who, Permission.VIEW_AGENT_OVERVIEWS):
    others = [a for a in kept_assignees(db, who) if a.user_id != who.user_id]
    choice = st.selectbox(
        "Whose",
        [me, *others, _EVERYONE],
        format_func=lambda a: a if a == _EVERYONE else ("Mine" if a == me else a.name),
        key="followups.whose",
    )
    whose = choice if isinstance(choice, Assignee) else None
left, right = st.columns([2, 1], vertical_alignment="bottom")
status_label = left.segmented_control("Show", list(_STATUSES), default="Open", key="followups.status")
overdue_only = right.toggle("Overdue only", key="followups.overdue")
status = _STATUSES[status_label or "Open"]

found = kept_followups(
    ("list", whose, status, overdue_only),
    lambda: list_followups(db, who, whose, status=status, overdue_only=overdue_only),
)
now = utc_now()
overdue = sum(f.overdue(now) for f in found)
st.caption(
    f"{counted(len(found), 'follow-up')}, {overdue} overdue"
    + (f" · for {md(whose.name)}" if whose is not None and whose != me else "")
)
if not found:
    st.info("Nothing to follow up." if status == "open" else "No follow-ups here.")
    st.stop()
everything = st.session_state.get(_EVERYTHING) == (whose, status, overdue_only)
for followup in found if everything else found[:_SHOWN]:
    with st.container(border=True):
        about, actions = st.columns([4, 1.3], vertical_alignment="center")
        where = f"{followup.customer or 'No customer'} · {channel_name(followup.channel)}"
        about.markdown(
            f"{_badge(followup, now)} **Due {md(when(followup.due_at))}** · "
            + md(f"{where} · for {followup.assignee}")
        )
        about.text(followup.what)
        if followup.done_at is not None:
            about.caption(md(f"Done {when(followup.done_at)} by {followup.done_by}"))
        elif actions.button("Mark done", key=f"followup-done-{followup.id}", icon=":material/task_alt:"):
            try:
                complete_followup(db, who, followup.id)
            except (InvalidValue, NotFound, PermissionDenied) as error:
                show_error(error)
            else:
                forget_followups()
                st.rerun()
        if followup.customer_id is not None and actions.button(
            "Open conversation", key=f"followup-open-{followup.id}", icon=":material/forum:"
        ):
            context.open_customer(followup.customer_id, followup.thread_id)
if not everything and len(found) > _SHOWN:
    if st.button(f"Show all {len(found)}", icon=":material/expand_more:"):
        st.session_state[_EVERYTHING] = (whose, status, overdue_only)
        st.rerun()
