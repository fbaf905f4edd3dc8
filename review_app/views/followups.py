"""My follow-ups: the signed-in user's next steps on every conversation, overdue first. Coaches and
above may look at anyone's, or everyone's. Choosing one marks it done or opens its conversation."""

from __future__ import annotations

import streamlit as st

from review_app import context
from review_app.followup_panel import followups_table, forget_followups, kept_assignees, kept_followups
from review_app.formatting import counted
from review_app.safe_text import md, show_error
from storage.access import Permission, allows
from storage.errors import InvalidValue, NotFound, PermissionDenied
from storage.followups import Assignee, FollowUpStatus, assignee_of, complete_followup, list_followups
from storage.models import utc_now

_EVERYONE = "Everyone"
_STATUSES: dict[str, FollowUpStatus] = {"Open": "open", "Done": "done", "All": "all"}

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
chosen = followups_table(found, "followups.table", with_customer=True, selectable=True)
if not chosen:
    st.caption("Choose a follow-up to mark it done or open its conversation.")
    st.stop()
picked = found[chosen[0]]
done_column, open_column = st.columns(2)
if picked.done_at is None and done_column.button("Mark done", type="primary", icon=":material/task_alt:"):
    try:
        complete_followup(db, who, picked.id)
    except (InvalidValue, NotFound, PermissionDenied) as error:
        show_error(error)
    else:
        forget_followups()
        st.rerun()
if picked.customer_id is not None and open_column.button("Open conversation", icon=":material/forum:"):
    context.open_customer(picked.customer_id, picked.thread_id)
