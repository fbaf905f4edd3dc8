"""Customer merges on the Compliance page: the pending merge suggestions with their evidence, to
accept or reject, and the merges that stand, to undo (``storage.merge_review``, which checks the
role and audits). Names, identities and the importer's reason are outside text: escaped, or shown
with ``st.text``. The lists are read once and kept in the session until something changes or
the reviewer refreshes, so reruns neither read nor log them again.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from review_app.formatting import when
from review_app.safe_text import md, show_error
from storage.access import Principal
from storage.customers import CustomerChangeRefused
from storage.db import Database
from storage.errors import InvalidValue, NotFound, PermissionDenied
from storage.merge_review import (
    MergeReview,
    SuggestionReview,
    decide_suggestion,
    pending_suggestions,
    standing_merges,
    undo_customer_merge,
)

__all__ = ["merge_panel"]

_LOADED = "merges.loaded"  # (suggestions, merges) as last read
_DONE = "merges.done"  # what the last change did, said once after its rerun
_REFUSALS = (CustomerChangeRefused, InvalidValue, NotFound, PermissionDenied)


def _customer(customer_id: int, name: str | None) -> str:
    return f"customer {customer_id}" + (f" ({md(name)})" if name else "")


def merge_panel(db: Database, who: Principal) -> None:
    if st.button("Refresh", icon=":material/refresh:", key="merges.refresh"):
        st.session_state.pop(_LOADED, None)
    if _LOADED not in st.session_state:
        st.session_state[_LOADED] = (pending_suggestions(db, who), standing_merges(db, who))
    suggestions, merges = st.session_state[_LOADED]
    if done := st.session_state.pop(_DONE, None):
        st.success(done)
    st.subheader("Merge suggestions")
    st.caption(
        "An import found identities of two customers in one conversation and kept them apart. "
        "Accepting moves the newer customer's identities and conversations to the older one."
    )
    if not suggestions:
        st.caption("No merge suggestions are waiting.")
    for review in suggestions:
        _suggestion(db, who, review)
    st.subheader("Recent merges")
    if not merges:
        st.caption("No merges to undo.")
    for merge in merges:
        _merge(db, who, merge)


def _suggestion(db: Database, who: Principal, review: SuggestionReview) -> None:
    s = review.suggestion
    with st.container(border=True):
        st.markdown(
            f"**Suggestion {s.id}**: {_customer(s.customer_a, review.name_a)} and "
            f"{_customer(s.customer_b, review.name_b)} · {md(when(s.created_at))}"
        )
        st.text(s.reason)  # the importer's words, quoting identities: never markup
        for identity in s.evidence.get("identities", []):
            st.caption(
                f"{md(identity.get('kind', ''))} {md(identity.get('value', ''))} · "
                f"customer {md(identity.get('customer_id', ''))}"
            )
        accept, reject, _ = st.columns([1, 1, 2])
        if accept.button("Accept: merge", key=f"suggestion.accept.{s.id}", icon=":material/merge:"):
            _change(
                lambda: decide_suggestion(db, who, s.id, accept=True), f"Suggestion {s.id} accepted: merged."
            )
        if reject.button("Reject", key=f"suggestion.reject.{s.id}", icon=":material/call_split:"):
            _change(
                lambda: decide_suggestion(db, who, s.id, accept=False),
                f"Suggestion {s.id} rejected: the two stay apart and are not suggested again.",
            )


def _merge(db: Database, who: Principal, review: MergeReview) -> None:
    m = review.merge
    with st.container(border=True):
        st.markdown(
            f"**Merge {m.id}**: {_customer(m.merged_id, review.merged_name)} into "
            f"{_customer(m.survivor_id, review.survivor_name)} · {len(m.identity_ids)} identities, "
            f"{len(m.thread_ids)} conversations · by {md(m.by)}, {md(when(m.merged_at))}"
        )
        if st.button("Undo", key=f"merge.undo.{m.id}", icon=":material/undo:"):
            _change(
                lambda: undo_customer_merge(db, who, m.id),
                f"Merge {m.id} undone: customer {m.merged_id} is separate again.",
            )


def _change(action: Callable[[], object], done: str) -> None:
    """Make the change; on success read the lists again and say what happened after the rerun."""
    try:
        action()
    except _REFUSALS as error:
        show_error(error)
        return
    st.session_state.pop(_LOADED, None)
    st.session_state[_DONE] = done
    st.rerun()
