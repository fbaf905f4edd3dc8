"""What ``earshot app`` runs: the review app (``app.py``) plus the routes that stream call audio to the
player, set the session cookie and give Prometheus the queue's figures. ``streamlit run
review_app/server.py`` finds the ASGI ``app`` below and serves them all."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from review_app.audio_links import AUDIO_ROUTE
from review_app.metrics_route import METRICS_ROUTE
from review_app.session_cookie import SESSION_ROUTE

app = st.App(Path(__file__).with_name("app.py"), routes=[AUDIO_ROUTE, SESSION_ROUTE, METRICS_ROUTE])
