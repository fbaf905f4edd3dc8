"""The Admin page's contact reasons tab: each label with its labelled conversations and rules, each
label set's model with its measured accuracy, the rules with a way to remove one, and forms to add
a rule or a label. Training stays on the command line (`earshot reasons train`): it reads every
labelled conversation and can take a while."""

from __future__ import annotations

from collections.abc import Callable
from typing import get_args

import streamlit as st

from review_app.config import app_settings
from review_app.formatting import when
from review_app.safe_text import md, show_error
from storage.access import Principal
from storage.contact_reasons import (
    LABEL_SETS,
    LabelSet,
    add_rule,
    define_label,
    label_counts,
    latest_models,
    list_rules,
    remove_rule,
)
from storage.db import Database, read_scope
from storage.errors import InvalidValue, NotFound, PermissionDenied

__all__ = ["reasons_admin"]


def reasons_admin(db: Database, who: Principal) -> None:
    with read_scope(db) as session:
        models = latest_models(session)
    minimum = app_settings().reasons_min_per_label
    for label_set in LABEL_SETS:
        model = models.get(label_set)
        if model is None:
            st.caption(
                f"{label_set.capitalize()}: suggested by the rules. A model is trained with `earshot reasons "
                f"train` once two {label_set}s have at least {minimum} labelled conversations each."
            )
        else:
            st.caption(
                f"{label_set.capitalize()}: suggested by model v{model.version}, cross-validated accuracy "
                f"**{model.accuracy:.0%}** ({model.folds} folds over {model.examples} labelled "
                f"conversations, trained {md(when(model.trained_at))}); rules where its file is missing."
            )
    counts = label_counts(db, who)
    if counts:
        st.dataframe(
            [
                {
                    "Set": count.label.label_set,
                    "Label": count.label.name,
                    "Labelled": count.labelled,
                    "In the model": count.label.name in models[count.label.label_set].label_counts
                    if count.label.label_set in models
                    else False,
                    "Rules": count.rules,
                }
                for count in counts
            ],
            hide_index=True,
            width="stretch",
        )
    rules = list_rules(db, who)
    if rules:
        st.dataframe(
            [{"Id": r.id, "Set": r.label.label_set, "Label": r.label.name, "Search": r.query} for r in rules],
            hide_index=True,
            width="stretch",
        )
        with st.form("reasons-remove", border=False):
            doomed = st.selectbox(
                "Remove a rule",
                [r.id for r in rules],
                format_func=lambda rule_id: next(
                    f"{r.id}: {r.label.name} ← {r.query}" for r in rules if r.id == rule_id
                ),
                index=None,
            )
            if st.form_submit_button("Remove", icon=":material/delete:") and doomed is not None:
                _done(lambda: remove_rule(db, who, doomed))
    with st.form("reasons-add", border=False):
        st.markdown("**Add a rule**")
        chosen_set: LabelSet = st.radio("Suggests a", get_args(LabelSet), horizontal=True)
        label = st.text_input("Label", placeholder="billing, cancellation, resolved, escalated...")
        query = st.text_input(
            "When the conversation matches",
            placeholder='"charged twice" OR refund* OR NEAR(cancel contract, 5)',
            help='The Search page\'s syntax: words, "phrases", AND/OR/NOT, -word, prefix*, NEAR(a b, 5).',
        )
        rule_added = st.form_submit_button("Add rule", icon=":material/add:")
        label_added = st.form_submit_button("Add the label only", icon=":material/label:")
        if rule_added:
            _done(lambda: add_rule(db, who, chosen_set, label, query))
        elif label_added:
            _done(lambda: define_label(db, who, chosen_set, label))


def _done(change: Callable[[], object]) -> None:
    try:
        change()
    except (InvalidValue, NotFound, PermissionDenied) as error:
        show_error(error)
        return
    st.rerun()
