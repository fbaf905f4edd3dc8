"""The pyannote backend through pyannote.audio's real loading and inference code, offline.

Real pyannote pipelines are gated downloads that cannot exist on these machines, so this test
builds a local pipeline folder laid out like ``pyannote/speaker-diarization-community-1``
(``config.yaml`` + ``segmentation/``, ``embedding/``, ``plda/``) from pyannote.audio's own
architectures (PyanNet, WeSpeaker ResNet34) with random weights and a made-up PLDA, saved the
way pyannote.audio saves checkpoints. ``Pipeline.from_pretrained(folder)``, our adapter and the
speaker turns it returns all run for real; only the turns themselves are meaningless.

pyannote.audio needs its own environment (``tests/run_pyannote_tests.sh``); without it this
module is skipped.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ["PYANNOTE_METRICS_ENABLED"] = "0"
pyannote_audio = pytest.importorskip(
    "pyannote.audio", reason="pyannote.audio is not installed here: run tests/run_pyannote_tests.sh"
)

import lightning  # noqa: E402  (only importable beside pyannote.audio)
import torch  # noqa: E402
from pyannote.audio.core.task import Problem, Resolution, Specifications  # noqa: E402
from pyannote.audio.models.embedding.wespeaker import WeSpeakerResNet34  # noqa: E402
from pyannote.audio.models.segmentation import PyanNet  # noqa: E402

from tests.paths import EVAL  # noqa: E402
from transcribe import pipeline as earshot_pipeline  # noqa: E402
from transcribe.audio import decode  # noqa: E402
from transcribe.diarization import pyannote_backend  # noqa: E402
from transcribe.types import SAMPLE_RATE, SpeakerTurn, TranscribeOptions  # noqa: E402

pytestmark = pytest.mark.pyannote

EMBEDDING_DIMENSION = 256  # WeSpeaker ResNet34
PLDA_DIMENSION = 128

CONFIG = """\
version: 4.0.0
pipeline:
  name: pyannote.audio.pipelines.SpeakerDiarization
  params:
    clustering: VBxClustering
    embedding: $model/embedding
    embedding_batch_size: 8
    embedding_exclude_overlap: true
    plda: $model/plda
    segmentation: $model/segmentation
    segmentation_batch_size: 8
params:
  clustering:
    threshold: 0.6
    Fa: 0.07
    Fb: 0.8
  segmentation:
    min_duration_off: 0.0
"""


def _save_checkpoint(model, specifications: Specifications, folder: Path) -> None:
    """As pyannote.audio's own ``models/embedding/wespeaker/convert.py`` writes a checkpoint."""
    model.specifications = specifications
    model.build()
    checkpoint = {"state_dict": model.state_dict(), "hyper_parameters": dict(model.hparams)}
    model.on_save_checkpoint(checkpoint)
    checkpoint["pytorch-lightning_version"] = lightning.__version__
    folder.mkdir(parents=True)
    torch.save(checkpoint, folder / "pytorch_model.bin")


@pytest.fixture(scope="module")
def pipeline_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("speaker-diarization-random")
    torch.manual_seed(0)
    segmentation = Specifications(
        problem=Problem.MONO_LABEL_CLASSIFICATION,
        resolution=Resolution.FRAME,
        duration=10.0,
        classes=["speaker#1", "speaker#2", "speaker#3"],
        powerset_max_classes=2,
        permutation_invariant=True,
    )
    _save_checkpoint(PyanNet(sample_rate=SAMPLE_RATE), segmentation, folder / "segmentation")
    embedding = Specifications(problem=Problem.REPRESENTATION, resolution=Resolution.CHUNK, duration=5.0)
    _save_checkpoint(WeSpeakerResNet34(sample_rate=SAMPLE_RATE), embedding, folder / "embedding")
    rng = np.random.default_rng(0)
    (folder / "plda").mkdir()
    np.savez(
        folder / "plda" / "xvec_transform.npz",
        mean1=rng.normal(size=EMBEDDING_DIMENSION),
        mean2=rng.normal(size=PLDA_DIMENSION),
        lda=rng.normal(size=(EMBEDDING_DIMENSION, PLDA_DIMENSION)),
    )
    np.savez(
        folder / "plda" / "plda.npz",
        mu=rng.normal(size=PLDA_DIMENSION),
        tr=np.eye(PLDA_DIMENSION) + 0.1 * rng.normal(size=(PLDA_DIMENSION, PLDA_DIMENSION)),
        psi=rng.uniform(0.5, 2.0, size=PLDA_DIMENSION),
    )
    (folder / "config.yaml").write_text(CONFIG)
    return folder


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    return decode(EVAL / "phone_call_2spk.wav").mono()[: 20 * SAMPLE_RATE]


def test_local_pipeline_folder_loads_and_diarizes_through_the_adapter(pipeline_folder, speech, monkeypatch):
    loads = []
    real_from_pretrained = pyannote_audio.Pipeline.from_pretrained.__func__

    def spy(cls, checkpoint, *args, **kwargs):
        loads.append((checkpoint, kwargs))
        return real_from_pretrained(cls, checkpoint, *args, **kwargs)

    monkeypatch.setattr(pyannote_audio.Pipeline, "from_pretrained", classmethod(spy))
    pyannote_backend._load_pipeline.cache_clear()
    reports = []

    def hook(step, *, completed=None, total=None):
        reports.append((step, completed, total))

    options = TranscribeOptions(
        diarization="pyannote", pyannote_pipeline=str(pipeline_folder), hf_token="hf_local", num_speakers=2
    )

    turns = pyannote_backend.diarize(speech, options, hook)

    assert loads == [(str(pipeline_folder), {"token": "hf_local"})]
    assert isinstance(turns, tuple) and all(isinstance(turn, SpeakerTurn) for turn in turns)
    assert all(0.0 <= turn.start < turn.end <= 20.0 + 1e-6 for turn in turns)
    assert [turn.start for turn in turns] == sorted(turn.start for turn in turns)
    labels = list(dict.fromkeys(turn.speaker for turn in turns))
    assert labels == [f"S{i + 1}" for i in range(len(labels))] and len(labels) <= 2
    steps = {step for step, *_ in reports}
    assert {"diarization:segmentation", "diarization:embeddings"} <= steps
    assert all(
        isinstance(value, int)
        for _, completed, total in reports
        for value in (completed, total)
        if value is not None
    )


def test_the_whole_pipeline_runs_with_the_pyannote_backend(pipeline_folder, tmp_path):
    audio = decode(EVAL / "jfk.flac")
    options = TranscribeOptions(diarization="pyannote", pyannote_pipeline=str(pipeline_folder))

    transcript = earshot_pipeline.run(audio, options, cache_dir=tmp_path)

    assert transcript.models == {"asr": "tiny.en", "diarization": "pyannote"}
    assert "ask not what your country" in " ".join(u.text.lower() for u in transcript.utterances)
    # Random weights may find any turns at all; every word still gets a speaker, and every voice
    # heard (words or not) is one of the transcript's speakers.
    assert all(w.speaker for u in transcript.utterances for w in u.words)
    labels = {s.label for s in transcript.speakers}
    assert labels == {u.speaker for u in transcript.utterances} | {t.speaker for t in transcript.turns}


def test_a_folder_without_a_pipeline_is_a_clear_error(tmp_path):
    pyannote_backend._load_pipeline.cache_clear()
    options = TranscribeOptions(diarization="pyannote", pyannote_pipeline=str(tmp_path))
    with pytest.raises(FileNotFoundError, match="config.yaml"):
        pyannote_backend.diarize(np.zeros(SAMPLE_RATE, np.float32), options, lambda *a, **k: None)
