"""Compliance: legal holds (a release takes a second compliance user), retention policies, a
customer's erasure with a dry-run preview and a typed confirmation, and customer merges
(``review_app.merge_panel``). Admins see holds and policies, only compliance users change them,
which the services enforce; both merge customers. Every action is audited there.

What users typed (a hold's reason, a query) is shown in tables and as plain text, never as markup.
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from review_app import context
from review_app.config import app_settings
from review_app.merge_panel import merge_panel
from storage.access import Permission, allows
from storage.customers import resolve_customer
from storage.deletion import DeletionReport
from storage.erasure import LARGE_ERASURE, erase_customer
from storage.errors import InvalidValue, NotFound, PermissionDenied
from storage.holds import (
    HoldKind,
    HoldTarget,
    HoldView,
    approve_release,
    list_holds,
    place_hold,
    request_release,
)
from storage.retention import (
    DIRECTIONS,
    RETENTION_DELETES,
    apply_retention,
    list_policies,
    remove_policy,
    set_policy,
)
from storage.services import find_recording

_REFUSALS = (InvalidValue, NotFound, PermissionDenied, ValueError)
_ERASURE_PREVIEW = "compliance.erasure_preview"  # {"customer_id": int, "conversations": int}
_HOLD_KINDS: dict[HoldKind, str] = {
    "customer": "A customer",
    "call": "A call",
    "query": "What a search finds",
}


def _refused(what: str, error: Exception) -> None:
    """A refusal: the fixed words as a message, the service's reason (which may quote data) as text."""
    st.error(f"{what} was refused.")
    st.text(str(error))


def _day(value: object) -> date | None:
    """A date input's value: a date, or None when left empty."""
    return value if isinstance(value, date) else None


def _state(hold: HoldView) -> str:
    if hold.released_at is not None:
        return f"released by {hold.released_by} (asked by {hold.release_requested_by})"
    if not hold.active:
        return "ended"
    if hold.release_requested_by is not None:
        return f"release asked by {hold.release_requested_by}; awaiting a second compliance user"
    return "standing"


def _holds_table(holds: list[HoldView]) -> None:
    st.dataframe(
        [
            {
                "Hold": h.id,
                "Covers": h.covers,
                "Reason": h.reason,
                "Until": h.until.isoformat() if h.until else "until released",
                "Placed by": h.placed_by,
                "Placed": h.placed_at,
                "State": _state(h),
            }
            for h in holds
        ],
        hide_index=True,
        width="stretch",
        column_config={"Placed": st.column_config.DatetimeColumn("Placed", format="D MMM YYYY")},
    )


def _counts(report: DeletionReport) -> list[dict[str, object]]:
    rows = {
        "Conversations (calls, chats, e-mails)": report.conversations,
        "Calls": report.calls,
        "Audio files": report.audio_files,
        "Transcripts": report.transcripts,
        "Messages": report.messages,
        "Identities": report.identities,
        "Customers": report.customers,
        "Evaluations kept (their call marked deleted)": report.evaluations_kept,
        "Kept under legal hold": report.held_skipped,
    }
    return [{"What": what, "Count": count} for what, count in rows.items()]


who = context.require_page(Permission.VIEW_COMPLIANCE)
manage = allows(who, Permission.MANAGE_COMPLIANCE)
db = context.database()
blobs = context.blob_store()

st.title("Compliance")
if not manage:
    st.caption("You see holds and policies; compliance users place holds, set policies and erase.")
merges = allows(who, Permission.MERGE_CUSTOMERS)
names = (
    ["Legal holds", "Retention"] + (["Erasure"] if manage else []) + (["Customer merges"] if merges else [])
)
tabs = st.tabs(names)

with tabs[0]:
    show_ended = st.checkbox("Show released and ended holds", key="holds.ended")
    holds = list_holds(db, who, include_ended=show_ended)
    if not holds:
        st.caption("No holds ever placed." if show_ended else "No holds stand.")
    else:
        _holds_table(holds)
    if manage:
        place_column, release_column = st.columns(2, gap="large")
        with place_column:
            st.markdown("**Place a hold**")
            # Outside the form, so that the form asks only for what this kind of hold needs.
            kind = st.radio(
                "Hold",
                list(_HOLD_KINDS),
                format_func=_HOLD_KINDS.__getitem__,
                horizontal=True,
                key="hold.kind",
            )
        with place_column, st.form("place-hold", clear_on_submit=True):
            if kind == "customer":
                customer_ref = st.text_input(
                    "Customer: id, phone, e-mail or customer number", key="hold.customer"
                )
            elif kind == "call":
                call_id = st.number_input("Call id", min_value=1, step=1, value=None, key="hold.call")
            else:
                query = st.text_input("Search query (covers what matches now and later)", key="hold.query")
                first_day = st.date_input("Search from (optional)", value=None, key="hold.from")
                last_day = st.date_input("Search to (optional)", value=None, key="hold.to")
            reason = st.text_input("Reason (the matter or case)", key="hold.reason")
            until = st.date_input("Last day (optional: else until released)", value=None, key="hold.until")
            if st.form_submit_button("Place hold", type="primary", icon=":material/gavel:"):
                try:
                    if kind == "customer":
                        region = app_settings().default_region
                        target = HoldTarget(
                            "customer", customer_id=resolve_customer(db, customer_ref, region)
                        )
                    elif kind == "call":
                        if call_id is None:
                            raise ValueError("say which call: its id")
                        target = HoldTarget("call", recording_id=find_recording(db, str(int(call_id))).id)
                    else:
                        target = HoldTarget(
                            "query", query=query, date_from=_day(first_day), date_to=_day(last_day)
                        )
                    placed = place_hold(db, who, target, reason, _day(until))
                except _REFUSALS as error:
                    _refused("Placing the hold", error)
                else:
                    st.success(f"Hold {placed.id} placed.")
                    st.rerun()
        with release_column:
            st.markdown("**Release a hold**")
            st.caption(
                "A release takes two compliance users: one asks, a different one approves. "
                "Until then the hold stands."
            )
            standing = [h for h in holds if h.active]
            chosen = st.selectbox(
                "Hold to release",
                standing,
                format_func=lambda h: f"hold {h.id}: {h.covers}",
                index=None,
                key="hold.release",
            )
            ask_column, approve_column = st.columns(2)
            if ask_column.button("Ask to release", disabled=chosen is None, key="hold.ask"):
                try:
                    request_release(db, who, chosen.id)  # type: ignore[union-attr]
                except _REFUSALS as error:
                    _refused("Asking for the release", error)
                else:
                    st.success("Release asked for; another compliance user must approve it.")
            if approve_column.button("Approve release", disabled=chosen is None, key="hold.approve"):
                try:
                    approve_release(db, who, chosen.id)  # type: ignore[union-attr]
                except _REFUSALS as error:
                    _refused("Approving the release", error)
                else:
                    st.success(f"Hold {chosen.id} released.")  # type: ignore[union-attr]

with tabs[1]:
    policies = list_policies(db, who)
    st.dataframe(
        [
            {
                "Policy": p.id,
                "Covers": p.covers,
                "Keep days": p.keep_days,
                "Then delete": p.delete,
                "Set by": p.set_by,
                "Set": p.set_at,
            }
            for p in policies
        ],
        hide_index=True,
        width="stretch",
        column_config={"Set": st.column_config.DatetimeColumn("Set", format="D MMM YYYY")},
    )
    st.caption(
        "Where several policies match a conversation, the most specific decides (agent, then "
        "direction, then the channel alone). Conversations under a legal hold are kept."
    )
    if manage:
        set_column, run_column = st.columns(2, gap="large")
        with set_column, st.form("set-policy"):
            st.markdown("**Set a policy**")
            channel = st.text_input(
                "Channel (call, chat, email, whatsapp, ...)", value="call", key="policy.channel"
            )
            keep_days = st.number_input("Keep days", min_value=1, value=365, step=1, key="policy.days")
            direction = st.selectbox(
                "Direction", [None, *DIRECTIONS], format_func=lambda d: d or "any", key="policy.direction"
            )
            agent = st.text_input("Agent (optional)", key="policy.agent")
            deletes = st.selectbox("Then delete", RETENTION_DELETES, key="policy.deletes")
            if st.form_submit_button("Save policy", type="primary"):
                try:
                    saved = set_policy(
                        db, who, channel, int(keep_days), deletes, direction=direction, agent=agent or None
                    )
                except _REFUSALS as error:
                    _refused("Saving the policy", error)
                else:
                    st.success(f"Policy {saved.id} saved.")
                    st.rerun()
        with run_column:
            st.markdown("**Apply the policies now**")
            st.caption("The worker applies them on its schedule too (setting retention_every_s).")
            if st.button("Preview (dry run)", key="retention.preview"):
                run = apply_retention(db, blobs, who, dry_run=True)
                st.caption("Whole conversations that would be deleted")
                st.dataframe(_counts(run.everything), hide_index=True, key="retention.everything")
                st.caption("Calls whose audio alone would be deleted")
                st.dataframe(_counts(run.audio_only), hide_index=True, key="retention.audio")
            confirmed = st.checkbox("I understand that applying deletes for good", key="retention.confirm")
            if st.button("Apply retention", type="primary", disabled=not confirmed, key="retention.apply"):
                run = apply_retention(db, blobs, who, dry_run=False)
                st.success(
                    f"Retention applied: {run.everything.conversations} conversation(s) deleted, "
                    f"audio of {run.audio_only.calls} call(s) deleted."
                )
            removable = st.selectbox(
                "Remove a policy", policies, format_func=lambda p: f"policy {p.id}: {p.covers}", index=None
            )
            if st.button("Remove policy", disabled=removable is None, key="policy.remove"):
                remove_policy(db, who, removable.id)  # type: ignore[union-attr]
                st.rerun()

if merges:
    with tabs[names.index("Customer merges")]:
        merge_panel(db, who)

if manage:
    with tabs[names.index("Erasure")]:
        st.caption(
            "Erasing a customer (GDPR art. 17) deletes every call, audio file, transcript, message, "
            "conversation and identity of theirs, for good. A legal hold over any of it refuses the "
            f"erasure. More than {LARGE_ERASURE} conversations needs a second look (force)."
        )
        with st.form("erasure-preview"):
            reference = st.text_input("Customer: id, phone, e-mail or customer number", key="erase.customer")
            if st.form_submit_button("Preview erasure"):
                st.session_state.pop(_ERASURE_PREVIEW, None)
                try:
                    customer_id = resolve_customer(db, reference, app_settings().default_region)
                    preview = erase_customer(db, blobs, who, customer_id, dry_run=True)
                except _REFUSALS as error:
                    _refused("The erasure", error)
                else:
                    st.session_state[_ERASURE_PREVIEW] = {
                        "customer_id": customer_id,
                        "counts": _counts(preview),
                        "conversations": preview.conversations,
                    }
        previewed = st.session_state.get(_ERASURE_PREVIEW)
        if previewed is not None:
            customer_id = previewed["customer_id"]
            st.markdown(f"**Erasing customer {int(customer_id)} would delete:**")
            st.dataframe(previewed["counts"], hide_index=True)
            typed = st.text_input("Type the customer id to confirm", key="erase.confirm")
            force = (
                st.checkbox("Erase although it is unusually large", key="erase.force")
                if previewed["conversations"] > LARGE_ERASURE
                else False
            )
            if st.button(
                "Erase for good", type="primary", disabled=typed.strip() != str(customer_id), key="erase.go"
            ):
                try:
                    done = erase_customer(db, blobs, who, customer_id, dry_run=False, force=force)
                except _REFUSALS as error:
                    _refused("The erasure", error)
                else:
                    st.session_state.pop(_ERASURE_PREVIEW, None)
                    st.success(
                        f"Customer {int(customer_id)} erased: {done.conversations} conversation(s), "
                        f"{done.audio_files} audio file(s)."
                    )
