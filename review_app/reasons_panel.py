"""A conversation's contact reason and outcome on the call page and in the customer's history: what a
person chose, else the suggestion (by which rule or model), and for whoever may label, the choice to
accept it or correct it. The accepted label is what trains the model and what figures count."""

from __future__ import annotations

import streamlit as st

from earshot.reason_suggestions import Suggestion, suggest
from review_app.config import app_settings
from review_app.safe_text import md, show_error
from storage.access import Permission, Principal, allows
from storage.contact_reasons import (
    LABEL_SETS,
    Labelling,
    LabelSet,
    defined_labels,
    label_conversation,
    labelling_of,
)
from storage.db import Database
from storage.errors import InvalidValue, NotFound, PermissionDenied

__all__ = ["contact_reasons_panel"]

_KEPT = "reasons.kept"  # thread id -> (suggestions, labelling): each suggestion is an audited read
_TITLES: dict[LabelSet, str] = {"reason": "Reason", "outcome": "Outcome"}


def contact_reasons_panel(db: Database, who: Principal, thread_id: int, key: str) -> None:
    kept = st.session_state.setdefault(_KEPT, {})
    if thread_id not in kept:
        try:
            kept[thread_id] = (suggest(db, app_settings(), who, thread_id), labelling_of(db, who, thread_id))
        except (NotFound, PermissionDenied) as error:
            show_error(error)
            return
    suggestions, chosen = kept[thread_id]
    st.markdown("**Contact reason and outcome**")
    for label_set in LABEL_SETS:
        st.caption(md(_TITLES[label_set]) + ": " + _state(label_set, suggestions.get(label_set), chosen))
    if not allows(who, Permission.LABEL_CONTACTS):
        return
    options = defined_labels(db, who)
    if not any(options.values()):
        st.caption("No reasons or outcomes are defined yet: an admin adds them on the Admin page.")
        return
    with st.form(f"reasons-{key}-{thread_id}", border=False):
        st.caption("Accept what is suggested, or choose another first to correct it.")
        picked: dict[LabelSet, str | None] = {}
        for label_set in LABEL_SETS:
            current = (getattr(chosen, label_set) if chosen else None) or (
                suggestions[label_set].label if label_set in suggestions else None
            )
            names = options[label_set]
            picked[label_set] = st.selectbox(
                _TITLES[label_set],
                names,
                index=names.index(current) if current in names else None,
                placeholder="Choose one",
                key=f"reasons-{key}-{thread_id}-{label_set}",
            )
        if st.form_submit_button("Accept", icon=":material/check:"):
            try:
                label_conversation(
                    db,
                    who,
                    thread_id,
                    reason=picked["reason"],
                    outcome=picked["outcome"],
                    suggested={s.label_set: s.label for s in suggestions.values()},
                )
            except (InvalidValue, NotFound, PermissionDenied) as error:
                show_error(error)
                return
            kept.pop(thread_id, None)
            st.rerun()


def _state(label_set: LabelSet, suggestion: Suggestion | None, chosen: Labelling | None) -> str:
    """Markdown: the chosen label and by whom, else the suggestion and its basis, else none."""
    given = getattr(chosen, label_set) if chosen else None
    if chosen is not None and given is not None:
        return f"**{md(given)}** :gray[(labelled by {md(chosen.labelled_by)})]"
    if suggestion is None:
        return ":gray[no suggestion]"
    return f"**{md(suggestion.label)}** :gray[suggested by {md(suggestion.basis)}]"
