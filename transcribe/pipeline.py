"""Decoded audio in, speaker-attributed Transcript out: the one way through ``transcribe``.

Stereo calls with one party per channel are transcribed channel by channel, which makes
diarization exact; with the VAD filter on, Whisper only decodes each channel's speech, so the
cost stays close to one pass over the mixdown. Everything else is transcribed once as a mixdown
and attributed to the turns a diarization backend finds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from faster_whisper import WhisperModel

from transcribe.asr import recognize
from transcribe.attribution import attribute_words, utterances_from_channels
from transcribe.bleed import drop_bleed
from transcribe.channel_voices import voices_on_channels
from transcribe.diarization import choose_backend
from transcribe.diarization.channels import distinct_channel_indices
from transcribe.ivr_voice import opening_voice_alone, openings_in_another_voice
from transcribe.models import load_whisper
from transcribe.nonspeech import drop_non_speech_words, find_non_speech
from transcribe.prompts import IVR_SPEAKER, label_prompts
from transcribe.roles import assign_roles
from transcribe.speech import Span, speech_regions
from transcribe.timeline import kept_turns, speaker_turns
from transcribe.types import (
    AsrSegment,
    Audio,
    NonSpeechSpan,
    ProgressHook,
    SpeakerTurn,
    TranscribeOptions,
    Transcript,
    Utterance,
    no_progress,
)
from transcribe.voiceprints import AgentComparison, Voiceprint, compare_with_agent

# (samples, options, hook, ASR segments of those samples, speech regions) -> turns; backends that
# cannot use the words or the regions (pyannote) ignore them.
Diarize = Callable[
    [np.ndarray, TranscribeOptions, ProgressHook, Sequence[AsrSegment], Sequence[Span]],
    tuple[SpeakerTurn, ...],
]


@dataclass(frozen=True, eq=False)
class _Track:
    """One signal the pipeline works on (a channel, or the mixdown) with its speech found once."""

    channel: int | None
    samples: np.ndarray
    speech: tuple[Span, ...]


def _track(channel: int | None, samples: np.ndarray) -> _Track:
    return _Track(channel, samples, speech_regions(samples))


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
    backend = choose_backend(audio, options)
    model = load_whisper(options.model, cache_dir, options.device, options.compute_type)
    if backend == "channels":
        language, utterances, channels = _transcribe_channels(model, audio, options, hook)
        tracks = [_track(i, audio.samples[i]) for i in channels.values()]
        diarized: tuple[SpeakerTurn, ...] = ()  # one party per channel: nothing to diarize
    else:
        mixdown = _track(None, audio.mono())
        language, utterances, diarized = _transcribe_mixdown(model, mixdown, options, backend, hook)
        channels, tracks = None, [mixdown]
    non_speech = _find_non_speech(tracks)
    utterances = drop_non_speech_words(utterances, non_speech, channels or {})
    recorded = _recorded_openings(tracks, utterances, channels, options.device)
    utterances, ivr = label_prompts(utterances, options.ivr_prompts, channels, recorded)
    if channels is not None:  # a transfer or a supervisor: another voice on a party's line
        utterances, channels = voices_on_channels(utterances, channels, audio.samples, options.device)
    turns = _turns(backend, diarized, utterances, non_speech)
    if channels is None:
        utterances, turns = _renumbered(utterances, turns)
    labels = _voices_in_order(utterances, turns)
    by_voice = _compared_with_agent(agent_voice, tracks, channels, turns, labels, options.device)
    return Transcript(
        language=language,
        duration=audio.duration,
        speakers=(*assign_roles(labels, channels, options, by_voice), *([ivr] if ivr else [])),
        utterances=utterances,
        options=options,
        models={"asr": options.model, "diarization": backend},
        non_speech=non_speech,
        turns=turns,
    )


def _compared_with_agent(
    agent_voice: Voiceprint | None,
    tracks: Sequence[_Track],
    channels: dict[str, int] | None,
    turns: Sequence[SpeakerTurn],
    labels: Sequence[str],
    device: str,
) -> AgentComparison | None:
    """A mixdown's speakers held against the call's agent's voiceprint; stereo needs no voice: the
    channel map says who the agent is."""
    if agent_voice is None or channels is not None:
        return None
    return compare_with_agent(agent_voice, tracks[0].samples, turns, labels, device)


def _recorded_openings(
    tracks: Sequence[_Track], utterances: Sequence[Utterance], channels: dict[str, int] | None, device: str
) -> set[int]:
    """Utterances that open a party's channel in a recorded voice (one party per channel: the
    party's own voice to compare with), or a mixdown in a voice that only opens it."""
    if channels is None:
        return opening_voice_alone(utterances, tracks[0].samples, device)
    samples = {track.channel: track.samples for track in tracks}
    return openings_in_another_voice(utterances, {label: samples[i] for label, i in channels.items()}, device)


def _turns(
    backend: str,
    diarized: Sequence[SpeakerTurn],
    utterances: Sequence[Utterance],
    non_speech: Sequence[NonSpeechSpan],
) -> tuple[SpeakerTurn, ...]:
    """Who spoke when. One party per channel: each channel's words are that party's turns,
    overtalk included. A mixdown: the diarized turns, less what the phone system played (music,
    tones, recorded prompts), which the diarizer heard as anyone's; prompts are the IVR's turns."""
    if backend == "channels":
        return speaker_turns(utterances)
    prompts = [u for u in utterances if u.speaker == IVR_SPEAKER]
    played = [(span.start, span.end) for span in (*non_speech, *prompts)]
    turns = (*kept_turns(diarized, utterances, played), *speaker_turns(prompts))
    return tuple(sorted(turns, key=lambda turn: (turn.start, turn.end)))


def _renumbered(
    utterances: Sequence[Utterance], turns: Sequence[SpeakerTurn]
) -> tuple[tuple[Utterance, ...], tuple[SpeakerTurn, ...]]:
    """A mixdown's people as S1, S2, ... again in order of first speech: when the IVR took all the
    words of a voice the diarizer found, the agent would otherwise be "S2" beside no "S1"."""
    names = {old: f"S{number}" for number, old in enumerate(_voices_in_order(utterances, turns), start=1)}

    def renamed(utterance: Utterance) -> Utterance:
        name = names.get(utterance.speaker, utterance.speaker)
        words = tuple(replace(word, speaker=name) for word in utterance.words)
        return replace(utterance, speaker=name, words=words)

    return (
        tuple(renamed(u) for u in utterances),
        tuple(replace(turn, speaker=names.get(turn.speaker, turn.speaker)) for turn in turns),
    )


def _voices_in_order(utterances: Sequence[Utterance], turns: Sequence[SpeakerTurn]) -> tuple[str, ...]:
    """The people heard: those with words in order of their first word (which the mono role rule
    goes by), then voices that said no word the ASR heard, in order of their first turn. A
    recorded prompt is nobody's."""
    worded = dict.fromkeys(u.speaker for u in utterances if u.speaker != IVR_SPEAKER)
    wordless = dict.fromkeys(t.speaker for t in turns if t.speaker != IVR_SPEAKER and t.speaker not in worded)
    return (*worded, *wordless)


def _find_non_speech(tracks: Sequence[_Track]) -> tuple[NonSpeechSpan, ...]:
    """Music and tones per transcribed channel (hold music is played on one party's line), or in
    the mixdown when the speakers share one."""
    spans = [span for t in tracks for span in find_non_speech(t.samples, t.channel, t.speech)]
    return tuple(sorted(spans, key=lambda span: span.start))


def _transcribe_channels(
    model: WhisperModel, audio: Audio, options: TranscribeOptions, hook: ProgressHook
) -> tuple[str, tuple[Utterance, ...], dict[str, int]]:
    indices = distinct_channel_indices(audio)
    seconds = round(audio.duration)
    transcribed = [
        (
            f"S{i + 1}",
            recognize(model, audio.samples[i], options, _offset(hook, n * seconds, len(indices) * seconds)),
        )
        for n, i in enumerate(indices)
    ]
    # The language of the first channel that has speech: a quiet channel's guess means nothing.
    language = next((lang for _, (lang, segments) in transcribed if segments), transcribed[0][1][0])
    hook("diarization", completed=1, total=1)  # exact by construction: one speaker per channel
    # Each party faintly leaks into the other's channel; Whisper must not make them say it twice.
    heard = drop_bleed([segments for _, (_, segments) in transcribed], [audio.samples[i] for i in indices])
    utterances = utterances_from_channels(
        [(label, segments) for (label, _), segments in zip(transcribed, heard, strict=True)]
    )
    hook("attribution", completed=1, total=1)
    return language, utterances, {f"S{i + 1}": i for i in indices}


def _transcribe_mixdown(
    model: WhisperModel, mixdown: _Track, options: TranscribeOptions, backend: str, hook: ProgressHook
) -> tuple[str, tuple[Utterance, ...], tuple[SpeakerTurn, ...]]:
    language, segments = recognize(model, mixdown.samples, options, hook)
    turns = _diarizer(backend)(mixdown.samples, options, hook, segments, mixdown.speech)
    # Both backends give overlapping turns where two people talk at once; a word takes the
    # speaker whose turn it overlaps most.
    utterances = attribute_words(segments, turns)
    hook("attribution", completed=1, total=1)
    return language, utterances, turns


def _diarizer(backend: str) -> Diarize:
    """Imported on demand: each backend pulls in heavy, optional ML libraries."""
    if backend == "pyannote":
        from transcribe.diarization import pyannote_backend

        return lambda samples, options, hook, segments, speech: pyannote_backend.diarize(
            samples, options, hook
        )
    from transcribe.diarization import mono

    return mono.diarize


def _offset(hook: ProgressHook, offset: int, overall: int) -> ProgressHook:
    """Per-channel ASR progress as one bar over all channels, not a bar that restarts per channel."""

    def report(step: str, *, completed: int | None = None, total: int | None = None) -> None:
        hook(step, completed=None if completed is None else offset + completed, total=overall)

    return report
