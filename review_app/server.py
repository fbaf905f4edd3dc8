"""What ``earshot app`` runs: the review app (``app.py``) plus the route that streams call audio to the
player. ``streamlit run review_app/server.py`` finds the ASGI ``app`` below and serves both."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from review_app.audio_links import AUDIO_ROUTE

app = st.App(Path(__file__).with_name("app.py"), routes=[AUDIO_ROUTE])
