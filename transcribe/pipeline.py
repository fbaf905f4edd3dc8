"""Decoded audio in, speaker-attributed Transcript out: the one way through ``transcribe``.

Stereo calls with one party per channel are transcribed channel by channel, which makes
diarization exact; with the VAD filter on, Whisper only decodes each channel's speech, so the
cost stays close to one pass over the mixdown. Everything else is transcribed once as a mixdown
and attributed to the turns a diarization backend finds.

Either way the call then goes through its path's stages in order (``transcribe.stages``: STEREO or
MONO), each tuned by its own parameters (``TranscribeOptions.pipeline_params`` overrides them),
and last the voices heard get their roles.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from transcribe.call import Call, Stage, Track
from transcribe.diarization import choose_backend
from transcribe.diarization.channels import distinct_channel_indices
from transcribe.models import load_whisper
from transcribe.roles import assign_roles
from transcribe.speech import voiced_regions
from transcribe.stages import stages_for, voices_in_order
from transcribe.types import Audio, ProgressHook, Speaker, TranscribeOptions, Transcript, no_progress
from transcribe.voiceprints import AgentComparison, Voiceprint, compare_with_agent


def run(
    audio: Audio,
    options: TranscribeOptions,
    hook: ProgressHook = no_progress,
    *,
    cache_dir: Path,
    agent_voice: Voiceprint | None = None,
) -> Transcript:
    """Transcribe and diarize ``audio``; the step "decode" is the caller's, this reports the rest.

    ``agent_voice``: the enrolled voiceprint of the call's agent, when there is one; on a mono
    call the speaker who clearly has that voice is the agent. It is personal data, so it is a
    parameter of this call, never one of the ``options`` a transcript keeps."""
    call = start(audio, options, hook, cache_dir=cache_dir)
    return finish(through(call, stages_for(call.channels is not None, options.pipeline_params)), agent_voice)


def start(
    audio: Audio, options: TranscribeOptions, hook: ProgressHook = no_progress, *, cache_dir: Path
) -> Call:
    """The call before any stage: its path chosen (by channel, or a mixdown) and its tracks."""
    backend = choose_backend(audio, options)
    load_whisper(options.model, cache_dir, options.device, options.compute_type)  # fails early
    if backend == "channels":
        indices = distinct_channel_indices(audio)
        channels: dict[str, int] | None = {f"S{i + 1}": i for i in indices}
        tracks = tuple(_track(i, f"S{i + 1}", audio.samples[i]) for i in indices)
    else:
        channels, tracks = None, (_track(None, "", audio.mono()),)
    return Call(audio, options, backend, tracks, channels, cache_dir, hook)


def through(call: Call, stages: Sequence[Stage]) -> Call:
    """The call after each of ``stages`` in turn."""
    for stage in stages:
        call = stage.apply(call)
    return call


def finish(call: Call, agent_voice: Voiceprint | None = None) -> Transcript:
    """The transcript of a call that went through its stages: the voices heard get their roles."""
    return Transcript(
        language=call.language,
        duration=call.audio.duration,
        speakers=speakers(call, agent_voice),
        utterances=call.utterances,
        options=call.options,
        models={"asr": call.options.model, "diarization": call.backend},
        non_speech=call.non_speech,
        turns=call.turns,
    )


def speakers(call: Call, agent_voice: Voiceprint | None = None) -> tuple[Speaker, ...]:
    """Each voice heard, with its role (``transcribe.roles``), and the phone system if it was heard."""
    labels = voices_in_order(call.utterances, call.turns)
    channels = dict(call.channels) if call.channels is not None else None
    by_voice = _compared_with_agent(call, labels, agent_voice)
    return (*assign_roles(labels, channels, call.options, by_voice), *([call.ivr] if call.ivr else []))


def _compared_with_agent(
    call: Call, labels: Sequence[str], agent_voice: Voiceprint | None
) -> AgentComparison | None:
    """A mixdown's speakers held against the call's agent's voiceprint; stereo needs no voice: the
    channel map says who the agent is."""
    if agent_voice is None or call.channels is not None:
        return None
    return compare_with_agent(agent_voice, call.tracks[0].samples, call.turns, labels, call.options.device)


def _track(channel: int | None, label: str, samples: np.ndarray) -> Track:
    return Track(channel, label, samples, voiced_regions(samples))
