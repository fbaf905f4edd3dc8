"""Which voice is the agent and which the customer.

Stereo calls answer it from the PBX's channel convention; mono calls from the voice of the call's
agent where a voiceprint of it is enrolled and one speaker clearly has it
(``transcribe.voiceprints``), else from who spoke first, which is a guess the reviewer can correct
(``Speaker.role`` is editable downstream). Each speaker says which of these decided its role.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import get_args

from transcribe.types import ROLES, MonoRoleRule, Role, Speaker, TranscribeOptions
from transcribe.voiceprints import AgentComparison


class RoleError(ValueError):
    """A role setting (channel-to-role map or mono rule) that Earshot does not know."""


def assign_roles(
    labels_in_order_of_first_speech: Sequence[str],
    channels: Mapping[str, int] | None,
    options: TranscribeOptions,
    agent_voice: AgentComparison | None = None,
) -> tuple[Speaker, ...]:
    """One Speaker per label, with a role from the channel map (stereo), else from ``agent_voice``
    when it recognised the agent, else from the mono rule."""
    if channels is not None:
        channel_roles = _checked_channel_roles(options.channel_roles)
        speakers = [
            Speaker(
                label=label,
                role=channel_roles[channels[label]] if channels[label] < len(channel_roles) else None,
                channel=channels[label],
                role_source="channel" if channels[label] < len(channel_roles) else None,
            )
            for label in labels_in_order_of_first_speech
        ]
    elif agent_voice is not None and agent_voice.agent is not None:
        # The recognised agent, then the others in order of first speech: the customer, then others.
        order = [
            agent_voice.agent,
            *(label for label in labels_in_order_of_first_speech if label != agent_voice.agent),
        ]
        speakers = [
            Speaker(
                label=label,
                role=_VOICE_ORDER_ROLES[position] if position < len(_VOICE_ORDER_ROLES) else "other",
                role_source="voice",
                agent_similarity=agent_voice.similarities.get(label),
            )
            for position, label in enumerate(order)
        ]
    else:
        if options.mono_role_rule not in get_args(MonoRoleRule):
            raise RoleError(
                f"unknown mono role rule {options.mono_role_rule!r}; "
                f"known rules: {', '.join(get_args(MonoRoleRule))}"
            )
        similarities = agent_voice.similarities if agent_voice is not None else {}
        speakers = [
            Speaker(
                label=label,
                role=_mono_role(position, options),
                role_source=None if options.mono_role_rule == "none" else "first_speaker",
                agent_similarity=similarities.get(label),
            )
            for position, label in enumerate(labels_in_order_of_first_speech)
        ]
    return tuple(sorted(speakers, key=lambda speaker: _natural_key(speaker.label)))


_VOICE_ORDER_ROLES: tuple[Role, ...] = ("agent", "customer")


def _checked_channel_roles(channel_roles: Sequence[str]) -> tuple[Role, ...]:
    for channel, role in enumerate(channel_roles):
        if role not in ROLES:
            raise RoleError(
                f"unknown role {role!r} for channel {channel} in the channel-to-role map; "
                f"known roles: {', '.join(ROLES)}"
            )
    return tuple(channel_roles)  # type: ignore[arg-type]  # checked against ROLES above


def _mono_role(position: int, options: TranscribeOptions) -> Role | None:
    rule = options.mono_role_rule
    if rule == "none":
        return None
    if position >= 2:
        return "other"
    first: Role
    second: Role
    first, second = ("agent", "customer") if rule == "first_speaker_is_agent" else ("customer", "agent")
    return first if position == 0 else second


def _natural_key(label: str) -> tuple[tuple[int, int | str], ...]:
    """Sort "S2" before "S10"."""
    parts = re.split(r"(\d+)", label)
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in parts if part)
