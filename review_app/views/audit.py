"""Audit log: who signed in, played, viewed, searched and exported what; check the hash chain and
export a copy (the export is itself logged)."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, time, timedelta

import streamlit as st

from review_app import context
from review_app.formatting import zoned_column
from review_app.safe_text import md
from storage.access import Permission, allows
from storage.audit import AUDIT_ACTIONS, export_audit_csv, list_audit, verify_audit_chain

who = context.require_page(Permission.READ_AUDIT_LOG)
db = context.database()

st.title("Audit log")
st.caption(
    "Append-only: every row carries a keyed hash over the row before it, and the newest row is checkpointed "
    "outside the database, so a changed, removed or rolled-back row shows."
)

check, export, _ = st.columns([1, 1, 3])
if check.button("Verify the chain", icon=":material/verified_user:"):
    st.session_state["audit.verification"] = verify_audit_chain(db)
verification = st.session_state.get("audit.verification")
if verification is not None:
    if verification.ok:
        legacy = (
            f" ({verification.legacy_rows} from before the chain was keyed)"
            if verification.legacy_rows
            else ""
        )
        st.success(f"The chain is intact: {verification.rows_checked} rows checked{legacy}.")
    else:
        st.error(f"The chain is broken: {md(verification.problem)}.")
if allows(who, Permission.EXPORT) and export.button("Export as CSV", icon=":material/download:"):
    buffer = io.StringIO()
    rows = export_audit_csv(db, who, buffer)
    st.session_state["audit.export"] = (rows, buffer.getvalue())
prepared = st.session_state.get("audit.export")
if prepared is not None:
    st.download_button(
        f"Download {prepared[0]} rows",
        prepared[1],
        file_name=f"earshot-audit-{datetime.now(UTC):%Y%m%d-%H%M%S}.csv",
        mime="text/csv",
        icon=":material/file_download:",
    )

user_column, action_column, dates_column = st.columns([1, 1, 1])
username = user_column.text_input("User", placeholder="username")
action = action_column.selectbox(
    "Action", [None, *AUDIT_ACTIONS], format_func=lambda a: "any" if a is None else a
)
dates = dates_column.date_input("Dates", value=[], format="YYYY-MM-DD")
since = datetime.combine(dates[0], time(), UTC) if len(dates) > 0 else None
until = datetime.combine(dates[-1] + timedelta(days=1), time(), UTC) if len(dates) > 0 else None
records = list_audit(db, who, username=username or None, action=action, since=since, until=until, limit=500)
st.dataframe(
    [
        {
            "#": r.id,
            "When": r.at,
            "User": r.username,
            "Action": r.action,
            "Target": r.target or "",
            "About": r.about or "",
            "Details": json.dumps(r.details, ensure_ascii=False) if r.details else "",
            "Hash": r.hash[:12],
        }
        for r in records
    ],
    hide_index=True,
    width="stretch",
    height=520,
    # Who, what and on whom read whole at 1366 px; the JSON details take the rest (hover shows all).
    column_config={
        "#": st.column_config.NumberColumn("#", width=56),
        "When": zoned_column("When", "D MMM YYYY, HH:mm:ss"),
        "Target": st.column_config.TextColumn("Target", width=120),
        "About": st.column_config.TextColumn("About", width=240),
        "Hash": st.column_config.TextColumn("Hash", width=110),
    },
)
st.caption(f"Newest first; showing {len(records)} rows (at most 500; narrow the filters to see older ones).")
