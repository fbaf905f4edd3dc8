"""Who spoke when: one interface over three backends (channels, embedded, pyannote).

Only the cheap parts live here so that choosing a backend imports no ML library; the backends
are imported by whoever runs them (``transcribe.diarization.mono`` / ``.pyannote_backend``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from transcribe.diarization.channels import distinct_channel_indices
from transcribe.types import Audio, SpeakerTurn, TranscribeOptions

ResolvedBackend = Literal["channels", "embedded", "pyannote"]


class DiarizationError(ValueError):
    """A diarization request that cannot be served as configured (the message says why)."""


def choose_backend(audio: Audio, options: TranscribeOptions) -> ResolvedBackend:
    """Resolve ``options.diarization``; ``auto`` prefers exact channel separation when it exists."""
    _check_speaker_counts(options)
    backend = options.diarization
    if backend == "auto":
        if len(distinct_channel_indices(audio)) >= 2:
            return "channels"
        return "pyannote" if options.pyannote_pipeline else "embedded"
    if backend == "channels":
        distinct = distinct_channel_indices(audio)
        if len(distinct) < 2:
            raise DiarizationError(
                f"channel diarization needs two channels with different speech, but this recording "
                f"has {audio.channel_count} channel(s) of which {len(distinct)} carry their own signal "
                "(mono, identical or silent channels); use diarization 'auto' or 'embedded'"
            )
        return "channels"
    if backend == "pyannote":
        if not options.pyannote_pipeline:
            raise DiarizationError(
                "the pyannote backend needs a pipeline: set pyannote_pipeline to a Hugging Face id "
                "(e.g. pyannote/speaker-diarization-community-1, with hf_token) or a local folder"
            )
        return "pyannote"
    return "embedded"


def _check_speaker_counts(options: TranscribeOptions) -> None:
    if options.num_speakers is not None and options.num_speakers < 1:
        raise DiarizationError(f"num_speakers must be at least 1, not {options.num_speakers}")
    if not 1 <= options.min_speakers <= options.max_speakers:
        raise DiarizationError(
            f"speaker range min_speakers={options.min_speakers}, max_speakers={options.max_speakers} "
            "is empty: need 1 <= min_speakers <= max_speakers"
        )


def label_by_first_appearance(spans: Iterable[tuple[float, float, str]]) -> tuple[SpeakerTurn, ...]:
    """Turns sorted by time with backend-specific labels renamed "S1", "S2", ... in order of first speech.

    Backends name clusters arbitrarily; stable names let roles ("first speaker is the agent")
    and readers rely on S1 being whoever spoke first.
    """
    ordered = sorted(spans, key=lambda span: (span[0], span[1]))
    names: dict[str, str] = {}
    for _, _, label in ordered:
        names.setdefault(label, f"S{len(names) + 1}")
    return tuple(SpeakerTurn(start=start, end=end, speaker=names[label]) for start, end, label in ordered)
