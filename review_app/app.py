"""Review app entry point. For now one page listing transcribed calls; the full app is its own issue."""

from __future__ import annotations

import os

import streamlit as st

from storage import services
from storage.db import Database, open_database


@st.cache_resource
def database() -> Database:
    return open_database(os.environ["EARSHOT_DATABASE_URL"])


def main() -> None:
    st.set_page_config(page_title="Earshot", layout="wide")
    st.title("Earshot — calls")
    db = database()
    calls = services.list_recordings(db, limit=500)
    if not calls:
        st.info("No calls yet. Ingest some with `earshot ingest PATH` and run `earshot worker --once`.")
        return
    for call in calls:
        label = f"Call {call.id} · {call.original_name} · {call.customer_name or 'unknown customer'}"
        with st.expander(label):
            if not call.transcribed:
                st.write(f"Not transcribed yet ({call.job_status or 'no job'}).")
                continue
            transcript = services.load_transcript(db, call.id)
            roles = {s.label: (s.role or s.label).title() for s in transcript.speakers}
            for utterance in transcript.utterances:
                st.markdown(f"`{utterance.start:7.2f}s` **{roles[utterance.speaker]}:** {utterance.text}")


main()
