"""A contact's survey answers (CSAT, NPS, CES) as the pages show them beside it: one badge per answer,
the customer's comment as plain text under it."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from review_app.formatting import when
from review_app.safe_text import md
from storage.survey_answers import SurveyAnswer

__all__ = ["show_answers"]

_SCALES = {"csat": ("CSAT", 5), "nps": ("NPS", 10), "ces": ("CES", 7)}


def show_answers(answers: Sequence[SurveyAnswer]) -> None:
    """Nothing when the customer gave no answer about the contact."""
    if not answers:
        return
    badges = []
    for answer in answers:
        name, top = _SCALES[answer.kind]
        badges.append(f":violet-badge[{name} {answer.score:g}/{top}]")
    st.markdown("Survey: " + " ".join(badges), help=md(f"Answered {when(answers[-1].answered_at)}"))
    for answer in answers:
        if answer.comment:
            st.text(f"“{answer.comment}”")
