"""Agents' voices from calls: what ``transcribe.voiceprints`` hears of a speaker, kept in the agent's
voiceprint by ``storage.agent_voices``. The worker enrols after each transcription and after a
reviewer changes who a call's agent is; an admin enrols by hand with ``earshot agent voice enrol``."""

from __future__ import annotations

import numpy as np

from earshot.settings import Settings
from storage import agent_voices, services
from storage.agent_voices import WORKER, CallVoice, EnrolledVoice, VoiceSource, known_agent_speaker
from storage.blobs import BlobStore
from storage.db import Database
from storage.errors import InvalidValue, NotFound
from transcribe import audio
from transcribe.timeline import who_spoke_when
from transcribe.types import Audio, Speaker, Transcript
from transcribe.voiceprints import VoiceMatchParameters, Voiceprint, speaker_voiceprint


def call_voice(
    decoded: Audio, transcript: Transcript, speaker: Speaker, device: str = "cpu"
) -> CallVoice | None:
    """A speaker's voice in a call: from their own channel where they have one (the other party
    is not on it), else from the mixdown; None with too little speech to tell."""
    own_channel = speaker.channel is not None and speaker.channel < decoded.channel_count
    samples = decoded.samples[speaker.channel] if own_channel else decoded.mono()
    voice = speaker_voiceprint(samples, who_spoke_when(transcript), speaker.label, device)
    return None if voice is None else CallVoice(tuple(float(value) for value in voice.vector), voice.seconds)


def as_voiceprint(voice: CallVoice) -> Voiceprint:
    return Voiceprint(np.asarray(voice.vector, dtype=np.float32), voice.seconds)


def enrol_transcribed(
    db: Database, decoded: Audio, transcript: Transcript, recording_id: int, device: str = "cpu"
) -> None:
    """A freshly transcribed stereo call that names its agent gives the agent's channel to their
    voiceprint (a mono call's roles are a guess, and give nothing)."""
    agent = agent_voices.call_agent(db, recording_id)
    speaker = known_agent_speaker(transcript)
    if agent is None or speaker is None:
        return
    voice = call_voice(decoded, transcript, speaker, device)
    agent_voices.enrol_call(db, agent, recording_id, voice, "channel", actor=None, username=WORKER)


def enrol_corrected(db: Database, blobs: BlobStore, settings: Settings, recording_id: int) -> None:
    """After a reviewer changed who a call's agent is: the call's share in its agent's voiceprint
    becomes the voice now known to be the agent's, or nothing when none is."""
    agent = agent_voices.call_agent(db, recording_id)
    if agent is None:
        return
    transcript = services.load_transcript(db, recording_id)
    speaker = known_agent_speaker(transcript)
    voice = None
    if speaker is not None:
        voice = call_voice(_decoded(db, blobs, settings, recording_id), transcript, speaker, settings.device)
    source: VoiceSource = (
        "reviewer" if speaker is not None and speaker.role_source == "reviewer" else "channel"
    )
    agent_voices.enrol_call(db, agent, recording_id, voice, source, actor=None, username=WORKER)


def enrol_by_admin(
    db: Database, blobs: BlobStore, settings: Settings, agent: str, recording_id: int, label: str | None
) -> EnrolledVoice:
    """An admin's enrolment from the command line: speaker ``label`` of the call (by default the one
    known to be its agent) is ``agent``'s voice."""
    transcript = services.load_transcript(db, recording_id)
    if label is None:
        speaker = known_agent_speaker(transcript)
        if speaker is None:
            raise InvalidValue(
                f"call {recording_id} has no speaker known to be its agent (by channel or a reviewer): "
                "name one with --speaker"
            )
    else:
        speaker = next((s for s in transcript.speakers if s.label == label), None)
        if speaker is None:
            known = ", ".join(s.label for s in transcript.speakers)
            raise NotFound(f"call {recording_id} has no speaker {label!r} (it has {known})")
    voice = call_voice(_decoded(db, blobs, settings, recording_id), transcript, speaker, settings.device)
    if voice is None:
        raise InvalidValue(
            f"speaker {speaker.label} of call {recording_id} has under "
            f"{VoiceMatchParameters().min_seconds:g} s of speech: too little to enrol"
        )
    enrolled = agent_voices.enrol_call(db, agent, recording_id, voice, "admin", actor=None)
    assert enrolled is not None  # a voice was just added
    return enrolled


def _decoded(db: Database, blobs: BlobStore, settings: Settings, recording_id: int) -> Audio:
    call = services.transcription_input(db, recording_id, blobs)
    return audio.decode(call.audio_path, name=call.original_name, max_seconds=settings.max_audio_seconds)
