"""How the pages write times, channels and speakers, so every page says them the same way, and read
the days their links name."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import cache
from zoneinfo import ZoneInfo

import streamlit as st
from streamlit.elements.lib.column_types import ColumnConfig, ColumnWidth

from review_app.config import app_settings
from transcribe.formats import speaker_display_names as speaker_names
from transcribe.types import Speaker, Transcript

__all__ = [
    "ROLE_COLORS",
    "Turn",
    "channel_name",
    "clock",
    "counted",
    "display_zone",
    "linked_day",
    "local_midnight",
    "speaker_color",
    "speaker_names",
    "speaker_turns",
    "when",
    "zoned_column",
]

ROLE_COLORS = {"agent": "#2f6fde", "customer": "#0e9f6e", "ivr": "#8b5cf6", "other": "#6b7280"}
_UNKNOWN_ROLE_COLORS = ("#c2410c", "#0891b2", "#a21caf", "#4d7c0f")
_CHANNEL_NAMES = {
    "call": "Call",
    "chat": "Chat",
    "email": "E-mail",
    "whatsapp": "WhatsApp",
    "sms": "SMS",
    "messenger": "Messenger",
}


def channel_name(channel: str) -> str:
    """How a conversation channel reads: "E-mail", "WhatsApp"; one a provider named itself, title-cased."""
    return _CHANNEL_NAMES.get(channel, channel.title())


def counted(count: int, noun: str) -> str:
    """ "1 call", "2 calls": a count with its noun, singular for one."""
    return f"{count} {noun}" + ("" if count == 1 else "s")


def clock(seconds: float) -> str:
    """``m:ss``, or ``h:mm:ss`` from an hour on, as the player shows times."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def display_zone() -> ZoneInfo:
    """The organisation's time zone (the ``timezone`` setting), in which every page shows times."""
    return _zone(app_settings().timezone)


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_midnight(day: date) -> datetime:
    """The start of ``day`` in the organisation's time zone, in which the pages take the days picked."""
    return datetime.combine(day, time(), tzinfo=display_zone())


def linked_day(value: str | None) -> date | None:
    """The day a link names (``2026-11-02``); None for none, or for what is no day."""
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def when(moment: datetime | None) -> str:
    """A moment in the organisation's time zone, labelled: a call at 09:14 in Amsterdam reads
    "06 May 2024, 09:14 CEST", not the 07:14 it is stored as (storage keeps UTC, naive in SQLite)."""
    if moment is None:
        return "unknown time"
    local = (moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)).astimezone(display_zone())
    return f"{local:%d %b %Y, %H:%M %Z}"


def zoned_column(title: str, format: str, width: ColumnWidth | None = None) -> ColumnConfig:
    """A table column of moments, shown in the organisation's time zone and named with it."""
    zone = display_zone().key
    return st.column_config.DatetimeColumn(f"{title} ({zone})", format=format, timezone=zone, width=width)


def role_basis(speaker: Speaker) -> str | None:
    """How a speaker's role was decided, for a reviewer weighing it; None when nothing decided it."""
    similarity = speaker.agent_similarity
    voice = f"{similarity:.2f}" if similarity is not None else None
    if speaker.role_source == "channel":
        return "Role from the recording's channel"
    if speaker.role_source == "reviewer":
        return "Role set by a reviewer"
    if speaker.role_source == "voice":
        if speaker.role == "agent":
            return f"Recognised by voice as the call's agent (similarity {voice})"
        return f"Not the agent's voice (similarity {voice})" if voice else "Not the agent's voice"
    if speaker.role_source == "first_speaker":
        guess = "Role guessed from the order of speaking"
        return f"{guess}; the agent's voiceprint was not a clear match ({voice})" if voice else guess
    return None


def speaker_color(speaker: Speaker, index: int) -> str:
    if speaker.role in ROLE_COLORS:
        return ROLE_COLORS[speaker.role]
    return _UNKNOWN_ROLE_COLORS[index % len(_UNKNOWN_ROLE_COLORS)]


@dataclass(frozen=True)
class Turn:
    """Consecutive utterances of one speaker, read as one message."""

    speaker: str  # the speaker's label
    start: float
    text: str


def speaker_turns(transcript: Transcript) -> list[Turn]:
    """A call as a conversation: one turn per run of one speaker's utterances, in call order."""
    turns: list[Turn] = []
    for u in transcript.utterances:
        if turns and turns[-1].speaker == u.speaker:
            turns[-1] = Turn(u.speaker, turns[-1].start, f"{turns[-1].text} {u.text}")
        else:
            turns.append(Turn(u.speaker, u.start, u.text))
    return turns
