"""Offline diarization for mono calls: Silero VAD + resemblyzer's GE2E voice encoder + clustering.

Everything it needs ships inside installed wheels (Silero in faster-whisper, the encoder weights in
resemblyzer), so it works without an account or a network. Mel frames are computed here with numpy
rather than through resemblyzer's librosa path, whose first call spends ~35 s compiling numba code.
"""

from __future__ import annotations

import functools

import numpy as np
import torch
from faster_whisper.vad import VadOptions, get_speech_timestamps
from numpy.lib.stride_tricks import sliding_window_view
from resemblyzer import VoiceEncoder, hparams
from scipy.cluster.hierarchy import fcluster, linkage
from sklearn.metrics import silhouette_score

from transcribe.diarization import label_by_first_appearance
from transcribe.types import SAMPLE_RATE, ProgressHook, SpeakerTurn, TranscribeOptions

# The encoder's front end, fixed by how it was trained (resemblyzer.hparams).
_N_FFT = SAMPLE_RATE * hparams.mel_window_length // 1000  # 400 samples = 25 ms
_FRAME_STEP = SAMPLE_RATE * hparams.mel_window_step // 1000  # 160 samples = 10 ms
_WINDOW_FRAMES = hparams.partials_n_frames  # 160 frames = 1.6 s per embedding
_TARGET_DBFS = hparams.audio_norm_target_dBFS

# One embedding every 0.5 s: each window speaks for its central 0.5 s, which bounds how finely
# speaker changes are placed; a smaller hop costs proportionally more encoder time.
_HOP_FRAMES = 50
_BATCH_WINDOWS = 256
_MEL_BLOCK_FRAMES = 8192
# Pauses of 300 ms or more split speech regions; short pauses are where turns change hands.
_VAD = VadOptions(min_silence_duration_ms=300, speech_pad_ms=100, min_speech_duration_ms=250)
# Windows clustered directly; beyond this, cluster an even subsample and assign the rest to the
# nearest centroid (average linkage is quadratic in memory).
_MAX_LINKAGE_WINDOWS = 3000
# Another speaker count must beat two (the prior for calls) by this much silhouette to win.
_CLEARLY_BETTER = 0.05
# One voice, not two, when the two halves' mean voiceprints are this alike and the split is
# loose: measured on single-voice recordings (centroid cosine 0.93-0.97, silhouette 0.13-0.20)
# against two-voice ones (0.75-0.89, 0.25-0.56). Erring towards two is cheaper for calls.
_SAME_VOICE_COSINE = 0.92
_SAME_VOICE_SILHOUETTE = 0.25


def diarize(samples: np.ndarray, options: TranscribeOptions, hook: ProgressHook) -> tuple[SpeakerTurn, ...]:
    """Speaker turns of a 16 kHz mono float32 signal, labelled "S1", "S2", ... by first speech."""
    regions = _speech_regions(samples)
    if not regions:
        return ()
    frame_indices, region_ids = _speech_frames(regions)
    mel = _normalised_speech_mel(samples, regions, frame_indices)
    starts = _window_starts(len(frame_indices))
    embeddings = _embed_windows(mel, starts, options.device, hook)
    window_labels = _majority_smoothed(_cluster(embeddings, options))
    frame_labels = _frame_labels(window_labels, starts, len(frame_indices))
    return label_by_first_appearance(_turn_spans(frame_labels, frame_indices, region_ids, regions))


def mel_frames(samples: np.ndarray, frame_indices: np.ndarray) -> np.ndarray:
    """Power mel frames (len(frame_indices), 40), float32, as resemblyzer's ``wav_to_mel_spectrogram``.

    Frame ``i`` is centred on sample ``i * 160`` with zeros beyond the edges (librosa's centred
    STFT, periodic Hann window, Slaney mel filters). Computed in blocks so an hour of audio never
    holds more than a few MB of spectra at once.
    """
    padded = np.pad(np.asarray(samples, dtype=np.float32), (_N_FFT // 2, _N_FFT // 2))
    all_frames = sliding_window_view(padded, _N_FFT)[::_FRAME_STEP]
    window = _hann_window()
    filters = _mel_filters()
    out = np.empty((len(frame_indices), hparams.mel_n_channels), dtype=np.float32)
    for block in range(0, len(frame_indices), _MEL_BLOCK_FRAMES):
        chunk = all_frames[frame_indices[block : block + _MEL_BLOCK_FRAMES]] * window
        power = np.abs(np.fft.rfft(chunk, axis=1)) ** 2
        out[block : block + len(chunk)] = power @ filters.T
    return out


@functools.lru_cache(maxsize=1)
def _hann_window() -> np.ndarray:
    """Periodic Hann window (scipy's ``get_window("hann", n, fftbins=True)``, librosa's default)."""
    return (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(_N_FFT) / _N_FFT)).astype(np.float32)


@functools.lru_cache(maxsize=1)
def _mel_filters() -> np.ndarray:
    """Slaney-scale, Slaney-normalised triangular filters, as ``librosa.filters.mel`` builds them."""
    n_mels = hparams.mel_n_channels
    fft_freqs = np.fft.rfftfreq(_N_FFT, d=1.0 / SAMPLE_RATE)
    mel_points = _mel_to_hz(np.linspace(_hz_to_mel(0.0), _hz_to_mel(SAMPLE_RATE / 2), n_mels + 2))
    widths = np.diff(mel_points)
    ramps = np.subtract.outer(mel_points, fft_freqs)
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_points[2:] - mel_points[:-2]))[:, None]
    return weights.astype(np.float32)


# Slaney's mel scale: linear below 1 kHz, logarithmic above.
_MEL_LINEAR_HZ = 200.0 / 3
_MEL_BREAK_HZ = 1000.0
_MEL_BREAK = _MEL_BREAK_HZ / _MEL_LINEAR_HZ
_MEL_LOG_STEP = np.log(6.4) / 27.0


def _hz_to_mel(hz: float) -> float:
    if hz < _MEL_BREAK_HZ:
        return hz / _MEL_LINEAR_HZ
    return _MEL_BREAK + float(np.log(hz / _MEL_BREAK_HZ)) / _MEL_LOG_STEP


def _mel_to_hz(mels: np.ndarray) -> np.ndarray:
    return np.where(
        mels < _MEL_BREAK,
        mels * _MEL_LINEAR_HZ,
        _MEL_BREAK_HZ * np.exp(_MEL_LOG_STEP * (mels - _MEL_BREAK)),
    )


def _speech_regions(samples: np.ndarray) -> list[tuple[int, int]]:
    """Speech as (start, end) sample ranges, from the Silero VAD that faster-whisper ships."""
    if len(samples) == 0 or not np.any(samples):
        return []
    return [(chunk["start"], chunk["end"]) for chunk in get_speech_timestamps(samples, _VAD)]


def _speech_frames(regions: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the mel frames inside speech regions, and the region each belongs to."""
    per_region = [np.arange(start // _FRAME_STEP, end // _FRAME_STEP) for start, end in regions]
    region_ids = np.repeat(np.arange(len(regions)), [len(frames) for frames in per_region])
    return np.concatenate(per_region), region_ids


def _normalised_speech_mel(
    samples: np.ndarray, regions: list[tuple[int, int]], frame_indices: np.ndarray
) -> np.ndarray:
    """Mel frames of the speech, with the gain resemblyzer's ``preprocess_wav`` would apply.

    The encoder was trained on speech raised to -30 dBFS (never lowered); power mel scales with
    the square of the gain, so the gain is applied to the frames instead of copying the audio.
    """
    energy = sum(float(np.dot(samples[start:end], samples[start:end])) for start, end in regions)
    count = sum(end - start for start, end in regions)
    rms_dbfs = 10 * np.log10(max(energy / count, 1e-20))
    gain_db = max(0.0, _TARGET_DBFS - rms_dbfs)
    return mel_frames(samples, frame_indices) * np.float32(10 ** (gain_db / 10))


def _window_starts(stream_frames: int) -> np.ndarray:
    """Start frames of the encoder windows over the speech-only frame stream, the last flush with its end."""
    last = max(0, stream_frames - _WINDOW_FRAMES)
    starts = np.arange(0, last + 1, _HOP_FRAMES)
    return starts if starts[-1] == last else np.append(starts, last)


@functools.lru_cache(maxsize=2)
def _encoder(device: str) -> VoiceEncoder:
    """Loaded once per process and device: loading costs far more than one call's inference."""
    encoder = VoiceEncoder(device=device, verbose=False)
    encoder.eval()
    return encoder


def _embed_windows(mel: np.ndarray, starts: np.ndarray, device: str, hook: ProgressHook) -> np.ndarray:
    """L2-normalised GE2E embedding per window; speech shorter than one window is front-padded
    with silence so the LSTM's final state, which is the embedding, follows the speech."""
    if len(mel) < _WINDOW_FRAMES:
        mel = np.concatenate([np.zeros((_WINDOW_FRAMES - len(mel), mel.shape[1]), np.float32), mel])
    encoder = _encoder(device)
    windows = sliding_window_view(mel, _WINDOW_FRAMES, axis=0).transpose(0, 2, 1)  # (n, frames, mels)
    hook("diarization", completed=0, total=len(starts))
    embeddings = []
    with torch.no_grad():
        for batch in range(0, len(starts), _BATCH_WINDOWS):
            chunk = np.ascontiguousarray(windows[starts[batch : batch + _BATCH_WINDOWS]])
            embeddings.append(encoder(torch.from_numpy(chunk).to(encoder.device)).cpu().numpy())
            hook("diarization", completed=min(batch + _BATCH_WINDOWS, len(starts)), total=len(starts))
    stacked = np.concatenate(embeddings).astype(np.float64)
    return stacked / np.maximum(np.linalg.norm(stacked, axis=1, keepdims=True), 1e-12)


def _cluster(embeddings: np.ndarray, options: TranscribeOptions) -> np.ndarray:
    """A cluster index per window: a fixed count if configured, else two unless clearly otherwise.

    GE2E embeddings of one recording share a large common component (channel, codec, language),
    so clustering runs on embeddings with the recording's mean removed; whether two clusters are
    really one voice is judged on the raw embeddings, where that shared part still counts.
    """
    count = len(embeddings)
    centred = embeddings - embeddings.mean(axis=0)
    centred /= np.maximum(np.linalg.norm(centred, axis=1, keepdims=True), 1e-12)
    if options.num_speakers is not None:
        return _split(centred, min(options.num_speakers, count))
    low, high = max(1, options.min_speakers), min(options.max_speakers, count - 1)
    if max(2, low) > high:  # too few windows to compare splits
        return _split(centred, min(low, count))
    splits = {k: _split(centred, k) for k in range(max(2, low), high + 1)}
    scores = {k: _silhouette(centred, labels) for k, labels in splits.items()}
    prior = 2 if 2 in scores else min(scores)
    best = max(scores, key=lambda k: (scores[k] - (0 if k == prior else _CLEARLY_BETTER), -k))
    if low <= 1 and 2 in splits and _one_voice(embeddings, splits[2], scores[2]):
        return np.zeros(count, dtype=int)
    return splits[best]


def _one_voice(embeddings: np.ndarray, labels: np.ndarray, silhouette: float) -> bool:
    centroids = np.stack([embeddings[labels == label].mean(axis=0) for label in np.unique(labels)])
    if len(centroids) < 2:
        return True
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    return float(centroids[0] @ centroids[1]) > _SAME_VOICE_COSINE and silhouette < _SAME_VOICE_SILHOUETTE


def _split(embeddings: np.ndarray, k: int) -> np.ndarray:
    """Average-linkage clustering on cosine distance, then one reassignment of every window to
    its nearest centroid (which also covers windows left out of the linkage on long calls)."""
    if k <= 1:
        return np.zeros(len(embeddings), dtype=int)
    stride = -(-len(embeddings) // _MAX_LINKAGE_WINDOWS)
    sample = embeddings[::stride]
    tree = linkage(sample, method="average", metric="cosine")
    sample_labels = fcluster(tree, t=k, criterion="maxclust") - 1
    centroids = np.stack([sample[sample_labels == label].mean(axis=0) for label in np.unique(sample_labels)])
    return np.argmax(embeddings @ centroids.T, axis=1)


def _silhouette(embeddings: np.ndarray, labels: np.ndarray) -> float:
    if not 2 <= len(np.unique(labels)) <= len(embeddings) - 1:
        return -1.0
    # A fixed subsample bounds the quadratic cost on long calls and keeps results reproducible.
    sample_size = min(len(labels), 4000)
    score = silhouette_score(embeddings, labels, metric="cosine", sample_size=sample_size, random_state=0)
    return float(score)


def _majority_smoothed(labels: np.ndarray) -> np.ndarray:
    """Relabel a lone window whose two neighbours agree: one 1.6 s window cannot resolve a turn
    shorter than its hop, so such flips are encoder noise far more often than speech."""
    smoothed = labels.copy()
    lone = (labels[:-2] == labels[2:]) & (labels[1:-1] != labels[:-2])
    smoothed[1:-1][lone] = labels[:-2][lone]
    return smoothed


def _frame_labels(window_labels: np.ndarray, starts: np.ndarray, stream_frames: int) -> np.ndarray:
    """Label of every speech frame: that of the window whose centre is nearest."""
    centres = starts + min(_WINDOW_FRAMES, stream_frames) / 2
    boundaries = (centres[:-1] + centres[1:]) / 2
    return window_labels[np.searchsorted(boundaries, np.arange(stream_frames), side="right")]


def _turn_spans(
    frame_labels: np.ndarray,
    frame_indices: np.ndarray,
    region_ids: np.ndarray,
    regions: list[tuple[int, int]],
) -> list[tuple[float, float, str]]:
    """(start, end, cluster) runs of same-label frames, never crossing a pause between regions."""
    changes = np.flatnonzero((np.diff(frame_labels) != 0) | (np.diff(region_ids) != 0)) + 1
    run_starts = np.concatenate([[0], changes])
    run_ends = np.concatenate([changes, [len(frame_labels)]])
    spans = []
    for first, stop in zip(run_starts, run_ends, strict=True):
        region_start, region_end = regions[region_ids[first]]
        opens_region = first == 0 or region_ids[first - 1] != region_ids[first]
        closes_region = stop == len(frame_labels) or region_ids[stop] != region_ids[first]
        start = region_start if opens_region else frame_indices[first] * _FRAME_STEP
        end = region_end if closes_region else frame_indices[stop] * _FRAME_STEP
        spans.append((float(start) / SAMPLE_RATE, float(end) / SAMPLE_RATE, str(frame_labels[first])))
    return spans
