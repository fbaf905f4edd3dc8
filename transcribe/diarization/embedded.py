"""GE2E voiceprints (resemblyzer's voice encoder) and the mono diarizer built on them before issue 16.

The pipeline's mono diarizer is now ``transcribe.diarization.mono`` (segmentation-3.0 + CAM++); the
``diarize`` here is kept for comparison on the dev set, and ``voiceprints`` still serves
``transcribe.ivr_voice`` and ``transcribe.channel_voices``, whose lines were measured on GE2E cosines.

Offline diarization for mono calls: Silero VAD + resemblyzer's GE2E voice encoder + clustering.

Everything it needs ships inside installed wheels (Silero in faster-whisper, the encoder weights in
resemblyzer), so it works without an account or a network. Mel frames are computed here with numpy
rather than through resemblyzer's librosa path, whose first call spends ~35 s compiling numba code.

Speakers are found on dense 1.6 s windows over all speech (many samples make the clustering
robust); what gets a speaker is a "piece": a run of words from the ASR, cut at pauses and at
sentence ends and at most 2 s long, or speech no word covers. Each piece is embedded on its own
voiced frames and goes to the nearest speaker, so turns change hands between words and not in the
middle of a window. A turn's edges are then cut to where the voice is, leaving out the VAD's
padding and the silence at a change of speaker.
"""

from __future__ import annotations

import bisect
import functools
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import torch
from numpy.lib.stride_tricks import sliding_window_view

with warnings.catch_warnings():
    # resemblyzer imports webrtcvad, whose old release imports the deprecated pkg_resources.
    warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)
    import webrtcvad
    from resemblyzer import VoiceEncoder, hparams
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.ndimage import binary_dilation
from sklearn.metrics import silhouette_score

from transcribe.diarization import label_by_first_appearance
from transcribe.intervals import Span, subtract, union
from transcribe.speech import speech_regions
from transcribe.types import (
    SAMPLE_RATE,
    AsrSegment,
    ProgressHook,
    SpeakerTurn,
    TranscribeOptions,
    Word,
    no_progress,
)

# The encoder's front end, fixed by how it was trained (resemblyzer.hparams).
_N_FFT = SAMPLE_RATE * hparams.mel_window_length // 1000  # 400 samples = 25 ms
_FRAME_STEP = SAMPLE_RATE * hparams.mel_window_step // 1000  # 160 samples = 10 ms
_WINDOW_FRAMES = hparams.partials_n_frames  # 160 frames = 1.6 s per embedding
_TARGET_DBFS = hparams.audio_norm_target_dBFS


# Pieces are embedded in encoder windows of at most 1.6 s, 0.8 s apart (resemblyzer's own
# ``embed_utterance`` overlap), and a piece's voiceprint is the mean of its windows'. The dense
# windows that find the speakers are 0.5 s apart.
_HOP_FRAMES = _WINDOW_FRAMES // 2
_DENSE_HOP_FRAMES = 50
_BATCH_WINDOWS = 256
_MEL_BLOCK_FRAMES = 8192
# Pauses of 300 ms or more split speech regions; short pauses are where turns change hands.
# Candidate turns ("pieces") are runs of words inside one Whisper segment, cut where the words
# pause this long (in a call, the floor changes hands at pauses far more often than mid-phrase)...
_WORD_GAP = 0.3
# ...after a word that ends a sentence, where a reply often follows with no pause at all: with the
# VAD filter on, one Whisper segment can hold many sentences (``base`` makes segments of up to
# 30 s), so its sentence ends stand for the segment boundaries it did not make...
_SENTENCE_ENDS = (".", "?", "!", "\u3002", "\uff1f", "\uff01")  # and the CJK full-width forms
# ...and cut again, at a word boundary, so no piece is longer than this: a Whisper segment can
# hold both parties (a quick reply, overtalk), and a piece gets only one speaker.
MAX_PIECE = 2.0
# Speech the VAD heard but no word covers (ASR missed it, or it is a backchannel under the other
# party) becomes pieces of its own when at least this long; shorter bits join their neighbours.
_MIN_UNHEARD = 0.4
# Whisper times words in 20 ms steps: a word given no duration (start == end) was said within one.
_WHISPER_STEP = 0.02
# A piece's voiceprint is taken from its voiced 10 ms frames (webrtcvad), widened by this many
# frames each side to keep word onsets: Whisper's word times often include a few hundred ms of
# the silence or line noise around a word, and in a short piece that part, alike for every
# speaker, pulls the voiceprint towards the other party. The encoder was trained on speech with
# the silences cut out (resemblyzer's ``trim_long_silences``). Pieces with fewer voiced frames
# than the minimum are embedded whole. Turns start and end on the same voiced frames.
_VOICED_MARGIN_FRAMES = 2
_MIN_VOICED_FRAMES = 10
_VAD_AGGRESSIVENESS = 3  # webrtcvad's strictest mode, as resemblyzer uses it
# A GE2E voiceprint of less than about a second is mostly noise: shorter pieces count for less
# when each speaker's centroid is re-estimated from the pieces given to it.
_RELIABLE_PIECE = 1.0
# Windows clustered directly; beyond this, cluster an even subsample and assign the rest to the
# nearest centroid (average linkage is quadratic in memory).
_MAX_LINKAGE_WINDOWS = 3000
_REFINE_ROUNDS = 3
# Another speaker count must beat two (the prior for calls) by this much silhouette to win.
_CLEARLY_BETTER = 0.05
# A third (fourth, ...) speaker needs this many dense windows of their own (0.5 s apart: about
# 4 s of speech). Silhouette on a few windows is noise, and a short recording of one voice would
# otherwise split into a speaker per phrase; pyannote's clustering has the same guard
# (``min_cluster_size``). Two speakers, the prior for calls, need no such evidence.
_MIN_EXTRA_SPEAKER_WINDOWS = 8
# One voice, not two, when the two halves' mean voiceprints are this alike and the split is
# loose. ``bench.voice_count`` measures both on calls and on each of their speakers alone: calls
# of two or more voices reach a cosine of 0.92 (two alike voices), single voices 0.83-0.97 (the
# low end on 5-15 s of speech). As the two overlap, the line sits above every call measured:
# merging a call's parties loses every attribution, while one voice split in two is rarer in a
# call recorder and the smaller harm.
_SAME_VOICE_COSINE = 0.93
_SAME_VOICE_SILHOUETTE = 0.25


def diarize(
    samples: np.ndarray,
    options: TranscribeOptions,
    hook: ProgressHook,
    segments: Sequence[AsrSegment] = (),
    speech: Sequence[Span] | None = None,
) -> tuple[SpeakerTurn, ...]:
    """Speaker turns of a 16 kHz mono float32 signal, labelled "S1", "S2", ... by first speech.

    With the ASR ``segments`` of the same signal, turns are built from word runs, so they change
    hands at word boundaries and cover speech that the ASR heard but the VAD did not. ``speech``:
    the signal's speech regions when the caller has them already (else found here).
    """
    regions = list(speech_regions(samples) if speech is None else speech)
    pieces = _pieces(regions, segments)
    if not pieces:
        return ()
    stretches = union([*regions, *pieces])
    voiced = _voiced_frames(samples)
    windows, piece_embeddings = _embed(samples, stretches, pieces, voiced, options.device, hook)
    durations = np.array([end - start for start, end in pieces])
    labels = _cluster(windows, piece_embeddings, durations, options)
    spans = _turn_spans(pieces, labels, stretches, voiced)
    words = sorted((word for segment in segments for word in segment.words), key=lambda word: word.start)
    return label_by_first_appearance(_widened_over(spans, words))


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


def _pieces(regions: Sequence[Span], segments: Sequence[AsrSegment]) -> list[Span]:
    """Candidate turns, sorted and disjoint: word runs, plus the speech no word covers."""
    heard = [
        span
        for segment in segments
        for first, stop in word_runs(segment.words)
        for span in _cut_long(segment.words[first:stop])
    ]
    heard = sorted(_clipped(span, regions) for span in heard)
    disjoint: list[Span] = []
    for start, end in heard:  # Whisper's word times of neighbouring segments can overlap a little
        start = max(start, disjoint[-1][1]) if disjoint else start
        if end > start:
            disjoint.append((start, end))
    unheard = [
        part
        for gap in subtract(regions, disjoint)
        if gap[1] - gap[0] >= _MIN_UNHEARD
        for part in _cut_span(*gap)
    ]
    return sorted(disjoint + unheard)


def word_runs(words: Sequence[Word]) -> list[tuple[int, int]]:
    """(first, stop) ranges of ``words`` said without a pause of ``_WORD_GAP`` or a sentence end."""
    cuts = [
        index
        for index in range(1, len(words))
        if words[index].start - words[index - 1].end >= _WORD_GAP
        or words[index - 1].text.endswith(_SENTENCE_ENDS)
    ]
    return list(pairwise([0, *cuts, len(words)])) if words else []


def _clipped(span: Span, regions: Sequence[Span]) -> Span:
    """A word run trimmed to the speech the VAD heard around it: Whisper's word times often run
    into the silence around the words. Runs the VAD missed entirely are kept as they are."""
    inside = [(max(span[0], a), min(span[1], b)) for a, b in regions if a < span[1] and b > span[0]]
    return (inside[0][0], inside[-1][1]) if inside else span


def _cut_long(words: Sequence[Word]) -> list[Span]:
    """A word run as spans of at most ``MAX_PIECE`` seconds (longer only for one long word),
    cut at the word boundaries nearest to equal shares."""
    start, end = words[0].start, words[-1].end
    parts = max(1, int(np.ceil((end - start) / MAX_PIECE)))
    if parts == 1 or len(words) == 1:
        return [(start, end)] if end > start else []
    boundaries = np.array([word.start for word in words[1:]])
    targets = start + (end - start) * np.arange(1, parts) / parts
    cuts = sorted({int(np.argmin(np.abs(boundaries - target))) + 1 for target in targets})
    edges = [0, *cuts, len(words)]
    return [
        (words[first].start, words[stop - 1].end)
        for first, stop in pairwise(edges)
        if words[stop - 1].end > words[first].start
    ]


def _cut_span(start: float, end: float) -> list[Span]:
    """A span of unheard speech in equal parts of at most ``MAX_PIECE`` seconds."""
    parts = max(1, int(np.ceil((end - start) / MAX_PIECE)))
    edges = np.linspace(start, end, parts + 1)
    return [(float(a), float(b)) for a, b in pairwise(edges)]


def _normalised_mel(samples: np.ndarray, speech: Sequence[Span], frames: np.ndarray) -> np.ndarray:
    """Mel frames with the gain resemblyzer's ``preprocess_wav`` would give the ``speech``.

    The encoder was trained on speech raised to -30 dBFS (never lowered); power mel scales with
    the square of the gain, so the gain is applied to the frames instead of copying the audio.
    """
    spans = [(int(start * SAMPLE_RATE), int(end * SAMPLE_RATE)) for start, end in speech]
    energy = sum(float(np.dot(samples[a:b], samples[a:b])) for a, b in spans)
    count = sum(b - a for a, b in spans)
    rms_dbfs = 10 * np.log10(max(energy / max(count, 1), 1e-20))
    gain_db = max(0.0, _TARGET_DBFS - rms_dbfs)
    return mel_frames(samples, frames) * np.float32(10 ** (gain_db / 10))


def _frames(span: Span) -> np.ndarray:
    """Indices of the mel frames (10 ms each) of a span, at least one."""
    first = int(span[0] * 100)
    return np.arange(first, max(first + 1, int(span[1] * 100)))


def _voiced_frames(samples: np.ndarray) -> np.ndarray:
    """Whether each 10 ms frame holds voice, by webrtcvad, widened by ``_VOICED_MARGIN_FRAMES``."""
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype(np.int16)
    vad = webrtcvad.Vad(_VAD_AGGRESSIVENESS)
    flags = np.array(
        [
            vad.is_speech(pcm[i : i + _FRAME_STEP].tobytes(), SAMPLE_RATE)
            for i in range(0, len(pcm) - _FRAME_STEP + 1, _FRAME_STEP)
        ],
        dtype=bool,
    )
    return binary_dilation(flags, np.ones(2 * _VOICED_MARGIN_FRAMES + 1, dtype=bool)) if len(flags) else flags


def _voiced_part(frames: np.ndarray, voiced: np.ndarray) -> np.ndarray:
    """The voiced ones of a piece's frames, or all of them when too few are voiced."""
    keep = frames[voiced[np.minimum(frames, len(voiced) - 1)]] if len(voiced) else frames[:0]
    return keep if len(keep) >= _MIN_VOICED_FRAMES else frames


def _windows(frames: np.ndarray, hop: int) -> np.ndarray:
    """(windows, 160) frame indices of encoder windows over ``frames``, ``hop`` apart, the last
    flush with the end. Fewer frames than a window are repeated to fill one: padding with
    silence instead pulls short pieces' voiceprints towards each other."""
    if len(frames) <= _WINDOW_FRAMES:
        return frames[(np.arange(_WINDOW_FRAMES) - _WINDOW_FRAMES) % len(frames)][None, :]
    last = len(frames) - _WINDOW_FRAMES
    starts = np.arange(0, last + 1, hop)
    starts = starts if starts[-1] == last else np.append(starts, last)
    return frames[starts[:, None] + np.arange(_WINDOW_FRAMES)[None, :]]


@functools.lru_cache(maxsize=2)
def _encoder(device: str) -> VoiceEncoder:
    """Loaded once per process and device: loading costs far more than one call's inference."""
    encoder = VoiceEncoder(device=device, verbose=False)
    encoder.eval()
    return encoder


def _embed(
    samples: np.ndarray,
    stretches: Sequence[Span],
    pieces: Sequence[Span],
    voiced: np.ndarray,
    device: str,
    hook: ProgressHook,
) -> tuple[np.ndarray, np.ndarray]:
    """(embeddings of dense windows over all speech, voiceprint per piece), L2-normalised.

    The dense windows find the speakers (many samples make the clustering robust); a piece's
    voiceprint, the normalised mean of its own windows, decides which speaker it is.
    """
    # Dense windows run over the speech with the pauses left out, so choppy speech still gets
    # many of them; a piece's windows stay inside the piece.
    dense = _windows(np.concatenate([_frames(stretch) for stretch in stretches]), _DENSE_HOP_FRAMES)
    own = [_windows(_voiced_part(_frames(piece), voiced), _HOP_FRAMES) for piece in pieces]
    owners = np.repeat(np.arange(len(pieces)), [len(windows) for windows in own])
    stacked = _encode(samples, stretches, [dense, *own], device, hook)
    sums = np.zeros((len(pieces), stacked.shape[1]))
    np.add.at(sums, owners, stacked[len(dense) :])
    return _normalised(stacked[: len(dense)]), _normalised(sums)


def _encode(
    samples: np.ndarray,
    stretches: Sequence[Span],
    blocks: Sequence[np.ndarray],
    device: str,
    hook: ProgressHook,
) -> np.ndarray:
    """Raw voiceprints (float64) of the encoder windows of ``blocks`` ((windows, 160) frame indices
    each), in order; the mel gain is set on the speech of ``stretches``."""
    index = np.concatenate(blocks)
    needed, inverse = np.unique(index, return_inverse=True)
    mel = _normalised_mel(samples, stretches, needed)
    rows = inverse.reshape(index.shape)
    encoder = _encoder(device)
    hook("diarization", completed=0, total=len(rows))
    embedded = []
    with torch.no_grad():
        for batch in range(0, len(rows), _BATCH_WINDOWS):
            chunk = torch.from_numpy(mel[rows[batch : batch + _BATCH_WINDOWS]])
            embedded.append(encoder(chunk.to(encoder.device)).cpu().numpy())
            hook("diarization", completed=min(batch + _BATCH_WINDOWS, len(rows)), total=len(rows))
    return np.concatenate(embedded).astype(np.float64)


def _normalised(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def _cluster(
    windows: np.ndarray, pieces: np.ndarray, durations: np.ndarray, options: TranscribeOptions
) -> np.ndarray:
    """A speaker index per piece: speakers found on the dense windows (a fixed count if
    configured, else two unless clearly otherwise), each piece then given the nearest one.

    GE2E embeddings of one recording share a large common component (channel, codec, language),
    so clustering runs on embeddings with the recording's mean removed; whether two clusters are
    really one voice is judged on the raw embeddings, where that shared part still counts.
    """
    mean = windows.mean(axis=0)
    found = _normalised(windows - mean)
    centred = _normalised(pieces - mean)
    # A piece's say in its speaker's centroid grows with its length up to a reliable voiceprint.
    weights = np.minimum(durations, _RELIABLE_PIECE) ** 2
    return _refined(centred, weights, _assign(centred, found, _speakers_found(windows, found, options)))


def _speakers_found(windows: np.ndarray, found: np.ndarray, options: TranscribeOptions) -> np.ndarray:
    """A speaker index per dense window (``found``: centred, ``windows``: raw)."""
    count = len(found)
    if options.num_speakers is not None:
        return _split(found, min(options.num_speakers, count))
    low, high = max(1, options.min_speakers), min(options.max_speakers, count - 1)
    if max(2, low) > high:  # too few windows to compare splits
        return _split(found, min(low, count))
    splits = {k: _split(found, k) for k in range(max(2, low), high + 1)}
    splits = {
        k: labels
        for k, labels in splits.items()
        if k <= max(2, low) or np.bincount(labels).min() >= _MIN_EXTRA_SPEAKER_WINDOWS
    }
    scores = {k: _silhouette(found, labels) for k, labels in splits.items()}
    prior = 2 if 2 in scores else min(scores)
    best = max(scores, key=lambda k: (scores[k] - (0 if k == prior else _CLEARLY_BETTER), -k))
    if low <= 1 and 2 in splits and _voice_split(windows, splits[2], scores[2]).one_voice:
        return np.zeros(count, dtype=int)
    return splits[best]


def _assign(embeddings: np.ndarray, found: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Every piece to the nearest centroid of the speakers found."""
    centroids = np.stack([found[labels == label].mean(axis=0) for label in np.unique(labels)])
    return np.argmax(embeddings @ centroids.T, axis=1)


def _refined(pieces: np.ndarray, weights: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Labels after re-estimating each speaker's centroid from the pieces given to it (weighted
    by duration) and reassigning: the pieces are what gets labelled, so their own centroids fit
    them better than those of the dense windows, which straddle turn changes."""
    for _ in range(_REFINE_ROUNDS):
        present = np.unique(labels)
        centroids = np.stack([weights[labels == k] @ pieces[labels == k] for k in present])
        labels = present[np.argmax(pieces @ _normalised(centroids).T, axis=1)]
    return labels


@dataclass(frozen=True)
class VoiceSplit:
    """The best two-way split of a recording's voiceprints, and whether it is one voice after all."""

    cosine: float  # of the two halves' mean raw voiceprints
    silhouette: float  # of the split, on voiceprints with the recording's mean removed

    @property
    def one_voice(self) -> bool:
        return self.cosine > _SAME_VOICE_COSINE and self.silhouette < _SAME_VOICE_SILHOUETTE


def voice_split(samples: np.ndarray, device: str = "cpu") -> VoiceSplit:
    """How ``diarize`` weighs one voice against two in a 16 kHz mono signal, on the speech the VAD
    finds (``diarize`` adds what only the ASR heard); for ``bench.voice_count``."""
    stretches = union(speech_regions(samples))
    no_pieces, no_voiced = (), np.zeros(0, dtype=bool)  # only the dense windows are wanted
    windows, _ = _embed(samples, stretches, no_pieces, no_voiced, device, no_progress)
    found = _normalised(windows - windows.mean(axis=0))
    labels = _split(found, 2)
    return _voice_split(windows, labels, _silhouette(found, labels))


@dataclass(frozen=True)
class Voiceprint:
    """A voice as heard in some speech: the sum of its encoder windows' raw GE2E embeddings (so the
    voiceprints of separate stretches add up to theirs together) and the voiced seconds behind it."""

    total: np.ndarray
    seconds: float

    @property
    def vector(self) -> np.ndarray:
        """L2-normalised, the recording's mean not removed."""
        return self.total / max(float(np.linalg.norm(self.total)), 1e-12)

    def cosine(self, other: Voiceprint) -> float:
        return float(self.vector @ other.vector)

    def __add__(self, other: Voiceprint) -> Voiceprint:
        return Voiceprint(self.total + other.total, self.seconds + other.seconds)


def voiceprints(
    samples: np.ndarray, groups: Sequence[Sequence[Span]], device: str = "cpu"
) -> list[Voiceprint]:
    """One voiceprint per (non-empty) group of spans of a 16 kHz mono signal, from the group's
    voiced frames together, as a piece's is taken; for comparing voices outside diarization."""
    stretches = union([span for group in groups for span in group])
    voiced = _voiced_frames(samples[: int(stretches[-1][1] * SAMPLE_RATE) + _N_FFT])
    frames = [np.concatenate([_frames(span) for span in group]) for group in groups]
    blocks = [_windows(_voiced_part(group_frames, voiced), _HOP_FRAMES) for group_frames in frames]
    raw = _encode(samples, stretches, blocks, device, no_progress)
    per_group = np.split(raw, np.cumsum([len(block) for block in blocks])[:-1])
    return [
        Voiceprint(windows.sum(axis=0), _voiced_seconds(group_frames, voiced))
        for windows, group_frames in zip(per_group, frames, strict=True)
    ]


def _voiced_seconds(frames: np.ndarray, voiced: np.ndarray) -> float:
    return int(np.count_nonzero(voiced[frames[frames < len(voiced)]])) / 100


def _voice_split(embeddings: np.ndarray, labels: np.ndarray, silhouette: float) -> VoiceSplit:
    centroids = np.stack([embeddings[labels == label].mean(axis=0) for label in np.unique(labels)])
    if len(centroids) < 2:
        return VoiceSplit(cosine=1.0, silhouette=silhouette)
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    return VoiceSplit(cosine=float(centroids[0] @ centroids[1]), silhouette=silhouette)


def _split(embeddings: np.ndarray, k: int) -> np.ndarray:
    """Average-linkage clustering on cosine distance, then one reassignment of every window to
    its nearest centroid (which also covers windows left out of the linkage on long calls)."""
    if k <= 1:
        return np.zeros(len(embeddings), dtype=int)
    stride = -(-len(embeddings) // _MAX_LINKAGE_WINDOWS)
    sample = embeddings[::stride]
    tree = linkage(sample, method="average", metric="cosine")
    return _assign(embeddings, sample, fcluster(tree, t=k, criterion="maxclust") - 1)


def _silhouette(embeddings: np.ndarray, labels: np.ndarray) -> float:
    if not 2 <= len(np.unique(labels)) <= len(embeddings) - 1:
        return -1.0
    # A fixed subsample bounds the quadratic cost on long calls and keeps results reproducible.
    sample_size = min(len(labels), 4000)
    score = silhouette_score(embeddings, labels, metric="cosine", sample_size=sample_size, random_state=0)
    return float(score)


def _turn_spans(
    pieces: Sequence[Span], labels: np.ndarray, stretches: Sequence[Span], voiced: np.ndarray
) -> list[tuple[float, float, str]]:
    """(start, end, cluster) turns: pieces widened over the speech around them, same-label
    neighbours merged. Inside one stretch of speech (VAD regions and pieces joined), a boundary
    between two pieces lies halfway across the gap between them. Each turn then starts on its
    first voiced frame and ends on its last: the VAD pads its regions for the ASR's sake (100 ms
    each side, more where a breath or a click precedes the voice), and the gap between two
    speakers is silence; a timeline that claims either as speech puts a false alarm at every
    pause and every change of speaker."""
    spans: list[tuple[float, float, str]] = []
    stretch = 0
    for index, (start, end) in enumerate(pieces):
        while stretches[stretch][1] < end:
            stretch += 1
        low, high = stretches[stretch]
        opens = index == 0 or pieces[index - 1][1] < low
        closes = index == len(pieces) - 1 or pieces[index + 1][0] > high
        left = low if opens else (pieces[index - 1][1] + start) / 2
        right = high if closes else (end + pieces[index + 1][0]) / 2
        label = str(labels[index])
        if spans and spans[-1][2] == label and spans[-1][1] >= left:
            spans[-1] = (spans[-1][0], right, label)
        else:
            spans.append((left, right, label))
    trimmed = [(_voiced_edges((start, end), voiced), label) for start, end, label in spans]
    return [(float(start), float(end), label) for (start, end), label in trimmed]


def _widened_over(
    spans: Sequence[tuple[float, float, str]], words: Sequence[Word]
) -> list[tuple[float, float, str]]:
    """Turns that meet every word: a word left in the silence between two turns (trimmed to the
    voice, they can miss a short word Whisper timed into the pause) widens the nearer turn over it,
    never into the next one. ``spans`` sorted and disjoint, as ``_turn_spans`` gives them."""
    widened = [[start, end, label] for start, end, label in spans]
    starts = [span[0] for span in widened]
    for word in words:
        start, end = word.start, max(word.end, word.start + _WHISPER_STEP)
        after = bisect.bisect_right(starts, start)
        before = after - 1
        has_before, has_after = before >= 0, after < len(widened)
        if (has_before and widened[before][1] > start) or (has_after and widened[after][0] < end):
            continue  # the word meets a turn already
        gap_before = start - widened[before][1] if has_before else np.inf
        gap_after = widened[after][0] - end if has_after else np.inf
        if gap_before <= gap_after:
            widened[before][1] = min(end, widened[after][0]) if has_after else end
        else:
            widened[after][0] = starts[after] = max(start, widened[before][1]) if has_before else start
    return [(float(start), float(end), str(label)) for start, end, label in widened]


def _voiced_edges(span: Span, voiced: np.ndarray) -> Span:
    """The span from its first to its last voiced 10 ms frame; the span itself if none is voiced."""
    frames = _frames(span)
    frames = frames[frames < len(voiced)]  # a word's time may run past the last whole frame
    hits = frames[voiced[frames]]
    if not len(hits):
        return span
    return max(span[0], hits[0] / 100), min(span[1], (hits[-1] + 1) / 100)
