"""The pyannote.audio adapter.

pyannote.audio is an optional extra that is not installed here, and its pipelines are gated
models that cannot be downloaded on these machines, so a real pipeline cannot exist in these
tests. The adapter is therefore tested through its seam, ``run_pipeline``, with a stand-in that
is called exactly as pyannote.audio calls pipelines and returns a real pyannote.core Annotation.
"""

from __future__ import annotations

import importlib.util
import os
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from pyannote.core import Annotation, Segment

from transcribe.diarization import DiarizationError
from transcribe.diarization.pyannote_backend import diarize, run_pipeline, turns_from_annotation
from transcribe.types import SpeakerTurn, TranscribeOptions, no_progress


def reference_annotation() -> Annotation:
    annotation = Annotation()
    annotation[Segment(4.0, 6.0)] = "SPEAKER_00"
    annotation[Segment(0.5, 3.0)] = "SPEAKER_01"
    annotation[Segment(2.5, 4.5)] = "SPEAKER_00"  # overlaps SPEAKER_01's turn
    return annotation


EXPECTED = (SpeakerTurn(0.5, 3.0, "S1"), SpeakerTurn(2.5, 4.5, "S2"), SpeakerTurn(4.0, 6.0, "S2"))


class StandInPipeline:
    """Called like pyannote.audio's Pipeline: (file, hook=, **speaker counts) -> output."""

    def __init__(self, output_of):
        self.output_of = output_of
        self.calls: list[tuple[dict, dict]] = []

    def __call__(self, file, hook=None, **counts):
        self.calls.append((file, counts))
        hook("segmentation", None)
        hook("embeddings", None, file=file, total=4, completed=2)
        return self.output_of(reference_annotation())


@pytest.mark.skipif(
    importlib.util.find_spec("pyannote.audio") is not None, reason="pyannote.audio is installed"
)
def test_missing_extra_is_a_clear_error_and_telemetry_is_off(monkeypatch):
    monkeypatch.delenv("PYANNOTE_METRICS_ENABLED", raising=False)
    options = TranscribeOptions(
        diarization="pyannote", pyannote_pipeline="pyannote/speaker-diarization-community-1"
    )
    with pytest.raises(DiarizationError, match=r"optional extra: pip install 'earshot\[pyannote\]'"):
        diarize(np.zeros(16_000, np.float32), options, no_progress)
    assert os.environ["PYANNOTE_METRICS_ENABLED"] == "0"


def test_annotation_becomes_turns_labelled_by_first_appearance():
    assert turns_from_annotation(reference_annotation()) == EXPECTED


@pytest.mark.parametrize(
    "output_of",
    [lambda annotation: annotation, lambda annotation: SimpleNamespace(speaker_diarization=annotation)],
    ids=["pyannote.audio 3 (Annotation)", "pyannote.audio 4 (DiarizeOutput)"],
)
def test_pipeline_gets_audio_in_memory_and_counts_and_reports_progress(output_of):
    pipeline = StandInPipeline(output_of)
    reports = []

    def hook(step, *, completed=None, total=None):
        reports.append((step, completed, total))

    samples = np.linspace(-0.5, 0.5, 32_000, dtype=np.float32)
    turns = run_pipeline(pipeline, samples, TranscribeOptions(min_speakers=2, max_speakers=3), hook)

    assert turns == EXPECTED
    ((file, counts),) = pipeline.calls
    assert counts == {"min_speakers": 2, "max_speakers": 3}
    assert file["sample_rate"] == 16_000 and file["waveform"].shape == (1, 32_000)
    assert torch.equal(file["waveform"][0], torch.from_numpy(samples))
    assert reports == [("diarization:segmentation", None, None), ("diarization:embeddings", 2, 4)]


def test_fixed_speaker_count_is_passed_alone():
    pipeline = StandInPipeline(lambda annotation: annotation)
    run_pipeline(pipeline, np.zeros(16_000, np.float32), TranscribeOptions(num_speakers=2), no_progress)
    assert pipeline.calls[0][1] == {"num_speakers": 2}
