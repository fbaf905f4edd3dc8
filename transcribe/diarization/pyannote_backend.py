"""Diarization with a pyannote.audio pipeline (an optional extra: best quality where users have it).

The pipeline comes from a Hugging Face id (gated models need ``hf_token``) or a local folder;
it is loaded once per process. Audio goes in memory, so the file is decoded only once.
"""

from __future__ import annotations

import functools
import os
from typing import Any

import numpy as np

from transcribe.diarization import DiarizationError, label_by_first_appearance
from transcribe.types import SAMPLE_RATE, ProgressHook, SpeakerTurn, TranscribeOptions


def diarize(samples: np.ndarray, options: TranscribeOptions, hook: ProgressHook) -> tuple[SpeakerTurn, ...]:
    """Speaker turns of a 16 kHz mono float32 signal, labelled "S1", "S2", ... by first speech."""
    if not options.pyannote_pipeline:
        raise DiarizationError("the pyannote backend needs pyannote_pipeline (a Hugging Face id or a folder)")
    pipeline = _load_pipeline(options.pyannote_pipeline, options.hf_token, options.device)
    return run_pipeline(pipeline, samples, options, hook)


def run_pipeline(
    pipeline: Any, samples: np.ndarray, options: TranscribeOptions, hook: ProgressHook
) -> tuple[SpeakerTurn, ...]:
    """Apply a loaded pipeline (anything called like ``pyannote.audio.Pipeline``) to in-memory audio."""
    import torch

    speaker_counts: dict[str, int] = (
        {"num_speakers": options.num_speakers}
        if options.num_speakers is not None
        else {"min_speakers": options.min_speakers, "max_speakers": options.max_speakers}
    )
    audio = {
        # A copy: torch cannot wrap read-only arrays (Audio's are), and pyannote may write to it.
        "waveform": torch.from_numpy(np.array(samples, dtype=np.float32))[None],
        "sample_rate": SAMPLE_RATE,
    }
    output = pipeline(audio, hook=_pyannote_hook(hook), **speaker_counts)
    # pyannote.audio 4 returns an output object; 3.x returns the Annotation itself.
    return turns_from_annotation(getattr(output, "speaker_diarization", output))


def turns_from_annotation(annotation: Any) -> tuple[SpeakerTurn, ...]:
    """Turns of a ``pyannote.core.Annotation`` (overlaps kept), relabelled by first appearance."""
    return label_by_first_appearance(
        (float(segment.start), float(segment.end), str(label))
        for segment, _, label in annotation.itertracks(yield_label=True)
    )


def _pyannote_hook(hook: ProgressHook) -> Any:
    """pyannote calls ``hook(step_name, step_artifact, file=, total=, completed=)``; ours takes the
    step and counts only, with each pyannote step reported as ``diarization:<step>``."""

    def adapted(
        step_name: str,
        step_artifact: Any,
        file: Any = None,
        total: int | None = None,
        completed: int | None = None,
    ) -> None:
        # pyannote counts with numpy/torch integers; our hooks promise plain ints.
        hook(
            f"diarization:{step_name}",
            completed=None if completed is None else int(completed),
            total=None if total is None else int(total),
        )

    return adapted


@functools.lru_cache(maxsize=2)
def _load_pipeline(name: str, token: str | None, device: str) -> Any:
    # Must be set before pyannote.audio is imported: its usage telemetry is on by default.
    os.environ["PYANNOTE_METRICS_ENABLED"] = "0"
    try:
        from pyannote.audio import Pipeline
    except ImportError as error:
        raise DiarizationError(
            f"the pyannote backend needs the optional extra: pip install 'earshot[pyannote]' ({error})"
        ) from error
    import torch

    pipeline = Pipeline.from_pretrained(name, token=token)
    if pipeline is None:  # pyannote returns None (after printing why) for gated models it cannot fetch
        raise DiarizationError(
            f"could not load the pyannote pipeline {name!r}: accept its conditions on Hugging Face "
            "and set hf_token, or point pyannote_pipeline at a local folder"
        )
    return pipeline.to(torch.device(device))
