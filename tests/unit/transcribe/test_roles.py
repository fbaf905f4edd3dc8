"""Roles from the channel map (stereo), from the agent's voice or the order of first speech (mono)."""

from __future__ import annotations

import pytest

from transcribe.roles import RoleError, assign_roles
from transcribe.types import Speaker, TranscribeOptions
from transcribe.voiceprints import AgentComparison


def test_channels_take_their_role_from_the_channel_map():
    speakers = assign_roles(["S1", "S2"], {"S1": 1, "S2": 0}, TranscribeOptions())
    assert speakers == (
        Speaker("S1", "customer", 1, role_source="channel"),
        Speaker("S2", "agent", 0, role_source="channel"),
    )


def test_channel_beyond_the_map_has_no_role():
    options = TranscribeOptions(channel_roles=("customer",))
    speakers = assign_roles(["S1", "S2"], {"S1": 0, "S2": 1}, options)
    assert speakers == (Speaker("S1", "customer", 0, role_source="channel"), Speaker("S2", None, 1))


def test_unknown_role_in_the_channel_map_is_named():
    options = TranscribeOptions(channel_roles=("agent", "client"))  # type: ignore[arg-type]
    with pytest.raises(RoleError, match="'client'.*channel 1"):
        assign_roles(["S1", "S2"], {"S1": 0, "S2": 1}, options)
    assert issubclass(RoleError, ValueError)


def test_mono_first_speaker_is_agent_and_later_voices_are_other():
    speakers = assign_roles(
        ["S2", "S1", "S3"], None, TranscribeOptions(mono_role_rule="first_speaker_is_agent")
    )
    assert [(s.label, s.role, s.role_source) for s in speakers] == [
        ("S1", "customer", "first_speaker"),
        ("S2", "agent", "first_speaker"),
        ("S3", "other", "first_speaker"),
    ]


def test_mono_first_speaker_is_customer():
    speakers = assign_roles(["S1", "S2"], None, TranscribeOptions(mono_role_rule="first_speaker_is_customer"))
    assert [(s.label, s.role) for s in speakers] == [("S1", "customer"), ("S2", "agent")]


def test_mono_rule_none_leaves_roles_open():
    speakers = assign_roles(["S1", "S2"], None, TranscribeOptions(mono_role_rule="none"))
    assert [s.role for s in speakers] == [None, None]


def test_unknown_mono_rule_is_named():
    with pytest.raises(RoleError, match="'loudest_is_agent'"):
        assign_roles(["S1"], None, TranscribeOptions(mono_role_rule="loudest_is_agent"))  # type: ignore[arg-type]


def test_labels_sort_numerically():
    labels = [f"S{i}" for i in (3, 10, 1, 2)]
    assert [s.label for s in assign_roles(labels, None, TranscribeOptions())] == ["S1", "S2", "S3", "S10"]


def test_mono_voice_of_the_agent_wins_over_who_spoke_first():
    recognised = AgentComparison({"S1": 0.41, "S2": 0.83, "S3": 0.2}, agent="S2")
    speakers = assign_roles(["S1", "S2", "S3"], None, TranscribeOptions(), recognised)
    assert [(s.label, s.role, s.role_source, s.agent_similarity) for s in speakers] == [
        ("S1", "customer", "voice", 0.41),
        ("S2", "agent", "voice", 0.83),
        ("S3", "other", "voice", 0.2),
    ]


def test_mono_without_a_voice_match_falls_back_to_the_rule_and_keeps_the_similarities():
    unrecognised = AgentComparison({"S1": 0.55, "S2": 0.5}, agent=None)
    options = TranscribeOptions(mono_role_rule="first_speaker_is_customer")
    speakers = assign_roles(["S1", "S2"], None, options, unrecognised)
    assert [(s.role, s.role_source, s.agent_similarity) for s in speakers] == [
        ("customer", "first_speaker", 0.55),
        ("agent", "first_speaker", 0.5),
    ]


def test_stereo_ignores_voices_the_channel_map_decides():
    recognised = AgentComparison({"S2": 0.9}, agent="S2")
    speakers = assign_roles(["S1", "S2"], {"S1": 0, "S2": 1}, TranscribeOptions(), recognised)
    assert [s.role for s in speakers] == ["agent", "customer"]
