"""The app's one stylesheet (``theme.css``): layout that Streamlit's theme options cannot set.

It is a file shipped with the app, so no data ever reaches it; this is the only ``st.html`` call in
the app (``tests/app/test_safe_text.py`` holds every page to that).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

STYLESHEET = Path(__file__).with_name("theme.css")


def apply() -> None:
    """Send the stylesheet with this run (Streamlit puts a style-only ``st.html`` out of the page's flow)."""
    st.html(STYLESHEET)
