"""The call page's Summary and Insights panes, and the tracker alerts on the call list.

Both panes are computed from the transcript the page already holds (read and audited once, as
``storage.guarded.replay_call`` gives it: redacted, so a summary line shows "[CARD]" where the
transcript does) and kept in the session per call, so reruns compute nothing again. The
trackers that tag a call are read (and audited) once per call the same way.
"""

from __future__ import annotations

from collections.abc import Callable

import altair as alt
import pandas as pd  # type: ignore[import-untyped]
import streamlit as st

from earshot.call_insights import CallInsights, call_insights
from earshot.call_summary import SummaryLine, summarize
from review_app import context
from review_app.formatting import ROLE_COLORS, clock, speaker_names, when
from review_app.safe_text import md
from storage.access import Principal
from storage.db import Database
from storage.trackers import TrackerTag, call_tags, mark_alerts_seen, unseen_alerts
from transcribe.types import Transcript

__all__ = ["insights_pane", "summary_pane", "tracker_alerts"]

_COMPUTED = "insights.computed"  # recording id -> (summary lines, insights, tracker tags)
_ALERTS = "insights.alerts"  # the signed-in user's unseen tracker alerts, read once a session


def _computed(
    db: Database, who: Principal, recording_id: int, transcript: Transcript
) -> tuple[list[SummaryLine], CallInsights, list[TrackerTag]]:
    cache = st.session_state.setdefault(_COMPUTED, {})
    if recording_id not in cache:
        cache.clear()  # one call's at a time: a long session opens many
        cache[recording_id] = (
            summarize(transcript),
            call_insights(transcript),
            call_tags(db, who, recording_id),
        )
    return cache[recording_id]


def summary_pane(
    db: Database, who: Principal, recording_id: int, transcript: Transcript, seek: Callable[[float], None]
) -> None:
    """The call's key lines in call order: a click on a line's time plays the call from there."""
    lines, _, tags = _computed(db, who, recording_id, transcript)
    if tags:
        st.markdown("Trackers: " + " ".join(f":blue-badge[{md(tag.name)}]" for tag in tags))
    if not lines:
        st.caption("Nothing was said in this call to summarise.")
        return
    st.caption("Key lines picked from the transcript (redacted as it is shown); a time plays from there.")
    names = speaker_names(transcript.speakers)
    for number, line in enumerate(lines):
        # The time and who said it on one row: the side column is narrow and the pane is read down.
        left, right = st.columns([0.4, 0.6], vertical_alignment="center", gap="small")
        if left.button(
            clock(line.start), key=f"summary-{recording_id}-{number}", icon=":material/play_arrow:"
        ):
            seek(line.start)
            st.rerun()
        kinds = " ".join(f":gray-badge[{kind}]" for kind in line.kinds)
        right.markdown(f"**{md(names.get(line.speaker, line.speaker))}** {kinds}")
        st.text(line.text)


def insights_pane(db: Database, who: Principal, recording_id: int, transcript: Transcript) -> None:
    """Per speaker: talk share, speed, longest monologue, questions; the sentiment trend as a chart."""
    _, found, _ = _computed(db, who, recording_id, transcript)
    if not found.speakers:
        st.caption("Nobody speaks in this call.")
        return
    names = speaker_names(transcript.speakers)
    # A column per speaker, a row per figure: two or three speakers fit the side column's width.
    table = pd.DataFrame(
        {
            names.get(s.speaker, s.speaker): {
                "Talk share": f"{s.talk_share:.0%}",
                "Words a minute": f"{s.words_per_minute:.0f}" if s.words_per_minute is not None else "—",
                "Longest monologue": clock(s.longest_monologue),
                "Questions": str(s.questions),
                "Mood": f"{s.mean_sentiment:+.2f}" if s.mean_sentiment is not None else "—",
            }
            for s in found.speakers
        }
    )
    st.dataframe(table, width="stretch")
    st.caption(
        "Longest monologue: the longest stretch one speaker talked without the other. "
        "Mood: mean sentiment, -1 to +1 (VADER, English)."
    )
    if found.sentiment_language is None:
        st.caption(f"No sentiment: this call is in {md(transcript.language)}, and VADER reads English only.")
        return
    if not found.trend:
        return
    trend = pd.DataFrame(
        [
            {
                "Part of the call": f"{clock(p.start)}–{clock(p.end)}",
                "order": p.segment,
                "Speaker": names.get(p.speaker, p.speaker),
                "role": p.role or "other",
                "Sentiment": round(p.mean, 3),
            }
            for p in found.trend
        ]
    )
    roles = sorted(set(trend["role"]))
    chart = (
        alt.Chart(trend, title="Sentiment over the call")
        .mark_line(point=True)
        .encode(
            x=alt.X("Part of the call:N", sort=alt.SortField("order"), axis=alt.Axis(labelAngle=0)),
            y=alt.Y("Sentiment:Q", scale=alt.Scale(domain=[-1, 1])),
            color=alt.Color(
                "role:N",
                scale=alt.Scale(domain=roles, range=[ROLE_COLORS.get(r, "#6b7280") for r in roles]),
                legend=alt.Legend(title=None, orient="bottom"),
            ),
            detail="Speaker:N",
            tooltip=["Speaker:N", "Part of the call:N", "Sentiment:Q"],
        )
        .properties(height=220)
    )
    st.altair_chart(chart, width="stretch")


def tracker_alerts(db: Database, who: Principal) -> None:
    """New calls the user's trackers tagged since they last looked, each opening the call."""
    if _ALERTS not in st.session_state:
        st.session_state[_ALERTS] = unseen_alerts(db, who)
    alerts = st.session_state[_ALERTS]
    if not alerts:
        return
    with st.expander(f"{len(alerts)} new call(s) matched your trackers", icon=":material/notifications:"):
        for alert in alerts:
            left, right = st.columns([1, 4], vertical_alignment="center")
            if left.button(
                "Open", key=f"alert-{alert.tracker_id}-{alert.recording_id}", icon=":material/call:"
            ):
                context.open_call(alert.recording_id)
            right.markdown(
                f":blue-badge[{md(alert.tracker)}] {md(alert.customer or 'Unknown customer')} · "
                f"{md(when(alert.started_at))}"
            )
        if st.button("Mark all seen", icon=":material/done_all:"):
            mark_alerts_seen(db, who, alerts)
            st.session_state[_ALERTS] = []
            st.rerun()
