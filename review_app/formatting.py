"""How the pages write times, channels and speakers, so every page says them the same way."""

from __future__ import annotations

from datetime import datetime

from transcribe.formats import speaker_display_names as speaker_names
from transcribe.types import Speaker

__all__ = [
    "ROLE_COLORS",
    "channel_name",
    "clock",
    "speaker_color",
    "speaker_names",
    "when",
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


def clock(seconds: float) -> str:
    """``m:ss``, or ``h:mm:ss`` from an hour on, as the player shows times."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def when(moment: datetime | None) -> str:
    return moment.strftime("%d %b %Y, %H:%M") if moment is not None else "unknown time"


def speaker_color(speaker: Speaker, index: int) -> str:
    if speaker.role in ROLE_COLORS:
        return ROLE_COLORS[speaker.role]
    return _UNKNOWN_ROLE_COLORS[index % len(_UNKNOWN_ROLE_COLORS)]
