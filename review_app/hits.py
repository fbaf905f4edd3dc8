"""Search results as both search boxes show them: a call hit plays the call at the moment it was
said; a chat or e-mail hit opens the conversation in the customer's history."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from review_app import context
from review_app.formatting import channel_name, clock, when
from review_app.safe_text import md, snippet_md
from storage.search import SearchHit
from transcribe.formats import role_name

__all__ = ["show_hits"]


def show_hits(hits: Sequence[SearchHit], *, with_customer: bool) -> None:
    for hit in hits:
        with st.container(border=True):
            text, action = st.columns([5, 1], vertical_alignment="center")
            who = role_name(hit.speaker_role) if hit.speaker_role else (hit.speaker_label or "")
            place = f"{who} at {clock(hit.start)}" if hit.start is not None else who
            heading = [md(channel_name(hit.channel)), md(when(hit.started_at))]
            if with_customer:
                heading.insert(0, f"**{md(hit.customer_name or 'Unknown customer')}**")
                heading.insert(2, md(hit.agent_name or "no agent"))
            text.markdown(" · ".join(heading) + f" · :gray[{md(place)}]  \n{snippet_md(hit.snippet)}")
            key = f"hit-{hit.channel}-{hit.utterance_id or hit.message_id}"
            if hit.recording_id is not None and hit.start is not None:
                if action.button(f"Play {clock(hit.start)}", key=key, icon=":material/play_arrow:"):
                    context.open_call(hit.recording_id, hit.start)
            elif hit.customer_id is not None:
                if action.button("Open", key=key, icon=":material/forum:"):
                    context.open_customer(hit.customer_id, hit.thread_id)
