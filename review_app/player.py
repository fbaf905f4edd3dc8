"""The synced call player: a Streamlit component served from ``components/player`` (plain HTML/JS).

``st.audio`` cannot report where playback is and seeks in whole seconds; this player seeks to the
word, highlights the word being spoken, and reports the position back when playback pauses or the
reviewer jumps, so a comment or a score gets the moment it is about.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit.components.v1 as components

from review_app.formatting import speaker_color, speaker_names
from review_app.waveform import Waveform
from transcribe.types import Transcript

__all__ = [
    "JUMP_SECONDS",
    "SKIP_SILENCES_OVER",
    "Marker",
    "PlayerEvent",
    "SeekRequest",
    "call_player",
    "transcript_payload",
]

JUMP_SECONDS = 10.0  # J and L: back and forward
# "Skip silences" jumps over pauses longer than this: a turn's own breaths (under a second) stay,
# a hold or the agent typing goes.
SKIP_SILENCES_OVER = 2.0
MIN_HEIGHT = 420  # fitted to the window, the player is never shorter than this

_COMPONENT = components.declare_component(
    "earshot_player", path=str(Path(__file__).parent / "components" / "player")
)


@dataclass(frozen=True)
class SeekRequest:
    """Jump to ``at`` seconds once; ``serial`` tells a new request from the same one sent again."""

    at: float
    serial: int


@dataclass(frozen=True)
class Marker:
    at: float
    label: str


@dataclass(frozen=True)
class PlayerEvent:
    at: float  # seconds into the call
    event: str  # pause | seek | refresh | typing (the comment box got the focus)
    serial: int


def transcript_payload(transcript: Transcript) -> dict[str, Any]:
    """The transcript in the compact shape the player reads: one list per utterance,
    ``[speaker index, start, end, [[start, end, text, probability], ...], text]``."""
    index = {speaker.label: i for i, speaker in enumerate(transcript.speakers)}
    names = speaker_names(transcript.speakers)
    return {
        "speakers": [
            {
                "name": names[speaker.label],
                "title": f"{names[speaker.label]} ({speaker.label})",
                "color": speaker_color(speaker, i),
            }
            for i, speaker in enumerate(transcript.speakers)
        ],
        "utterances": [
            [
                index[u.speaker],
                round(u.start, 3),
                round(u.end, 3),
                [[round(w.start, 3), round(w.end, 3), w.text, round(w.probability, 3)] for w in u.words],
                u.text,
            ]
            for u in transcript.utterances
        ],
    }


def call_player(
    *,
    audio_url: str,
    audio_seconds_left: float,
    duration: float,
    payload: dict[str, Any],
    payload_key: str,
    markers: Sequence[Marker] = (),
    waveform: Waveform | None = None,
    seek: SeekRequest | None = None,
    comment_label: str | None = None,
    height: int | None = None,
    fit_margin: int = 0,
    jump_seconds: float = JUMP_SECONDS,
    skip_silences_over: float = SKIP_SILENCES_OVER,
    key: str,
) -> PlayerEvent | None:
    """Show the player; returns the last position it reported, or None before it reported any.

    ``payload_key`` names the transcript version: the browser rebuilds the transcript only when it
    changes, so reruns of the page (a comment typed, a score given) do not disturb playback.
    ``audio_seconds_left``: how long ``audio_url`` works; the player reports the event ``refresh``
    (a rerun) when four fifths of that have passed, and when a load fails, so the page can hand it a
    fresh link, which it takes without losing its place. ``comment_label``: the label of the page's
    comment box; the player reports ``typing`` with the position when that box gets the focus, and
    its key C moves there. ``height``: fixed, in pixels; None fits the player to the rest of the
    window below it less ``fit_margin`` (what the page shows under it), at least ``MIN_HEIGHT``, so
    the transcript is the one thing that scrolls. ``waveform``: the peaks of the audio at
    ``audio_url``, drawn above the speaker lanes; None shows the lanes alone. The keys J/K/L, < >
    (speed), M (mute) and C work anywhere on the page but in text boxes. The player's colours follow
    the app's light or dark theme.
    """
    value = _COMPONENT(
        audio_url=audio_url,
        audio_seconds_left=audio_seconds_left,
        duration=duration,
        key=key,
        default=None,
        height=height,
        min_height=MIN_HEIGHT,
        fit_margin=fit_margin,
        jump_seconds=jump_seconds,
        skip_silences_over=skip_silences_over,
        markers=[{"t": m.at, "label": m.label} for m in markers],
        waveform=waveform.payload() if waveform is not None else None,
        seek={"t": seek.at, "n": seek.serial} if seek is not None else None,
        comment_label=comment_label,
        transcript_key=payload_key,
        **payload,
    )
    if not value:
        return None
    return PlayerEvent(at=float(value["t"]), event=str(value["event"]), serial=int(value["n"]))
