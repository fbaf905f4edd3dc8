"""The default offline diarizer for mono calls: segmentation-3.0 + CAM++ embeddings + clustering.

Built as the field builds it (pyannote's ``SpeakerDiarization`` pipeline, with models that install
offline from pinned wheels):

1. pyannote's segmentation-3.0 (``segmentation_model``) hears, in 10 s windows a few seconds apart,
   which of up to three *local* speakers talk in each 17 ms frame, overlap included. A frame it
   doubts where Silero hears no voice either is silence.
2. Each local speaker of each window gets one CAM++ embedding (``campplus``), taken from the
   filterbank frames where that speaker talks, and alone where enough such frames exist (frames
   of overlap carry two voices).
3. The embeddings of local speakers with enough clean speech are clustered (agglomerative,
   average linkage on cosine distance, cut at a distance threshold); clusters smaller than a
   minimum size are not speakers of their own and go to the nearest large one. A fixed
   ``num_speakers``, or a count outside ``min_speakers``..``max_speakers``, cuts the tree at that
   count instead. Every local speaker then takes the nearest speaker found, two local speakers of
   one window never the same one while there are speakers enough.
4. Frame by frame, the number of people talking is the windows' average count of active local
   speakers, and that many speakers are chosen by the probability the windows give each of them,
   weighted towards the middle of each window: turns carry overlap, so the second speaker of an
   overtalk is in them.

Words then widen the nearest turn when they fall outside every turn, so turns cover the words.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.optimize import linear_sum_assignment

from transcribe.diarization import campplus, label_by_first_appearance, segmentation_model
from transcribe.speech import Span, union, voiced_regions
from transcribe.types import SAMPLE_RATE, AsrSegment, ProgressHook, SpeakerTurn, TranscribeOptions, Word

# Whisper times words in 20 ms steps: a word given no duration (start == end) was said within one.
_WHISPER_STEP = 0.02
_BATCH_CHUNKS = 16
# (local speakers) of each powerset class of segmentation-3.0: none, three singles, three pairs.
_CLASS_LOCALS = ((), (0,), (1,), (2,), (0, 1), (0, 2), (1, 2))
_LOCAL_SPEAKERS = 3


@dataclass(frozen=True)
class MonoDiarizationParams:
    """What the mono diarizer can be tuned by; the defaults are the measured ones (see
    ``bench.accuracy`` on ``shared/eval``)."""

    # Seconds between the starts of the 10 s segmentation windows (each frame is heard in
    # 10 / step windows). pyannote uses 1 s.
    step: float = 2.5
    # A local speaker's embedding trains the clustering only with this many seconds of speech
    # alone in its window (pyannote: 20% of the window); the others are only assigned.
    min_train_seconds: float = 1.0
    # Embeddings come from the frames a local speaker talks alone when there are this many seconds
    # of them, else from all the frames it talks.
    min_clean_seconds: float = 0.5
    # A local speaker is embedded on at most this many seconds of its frames, those in the middle
    # of its speech in the window: CAM++ needs no more for a steady voiceprint, and windows
    # overlap, so the rest of the window is embedded in its neighbours anyway.
    max_embed_seconds: float = 3.0
    # Agglomerative clustering: clusters merge while their average cosine distance is below this.
    threshold: float = 0.35
    # A cluster is a speaker by number when its training embeddings come from windows whose
    # starts span this many seconds (``ceil(min_cluster_seconds / step)`` embeddings; pyannote's
    # ``min_cluster_size``). Smaller clusters join the nearest large one unless unlike all of them
    # (cosine of the centroids below ``distinct_similarity``): a voice heard in one window or two.
    # Measured on shared/eval (bench.accuracy): steps of 2.5 s with 2 embeddings and of 1 s with 3
    # or 4 give the same counts; 6 at 1 s merges the 3-speaker AMI clip into one voice. Small
    # clusters measured (bench.mono_sweep's inputs): with these defaults, EN2002a's fourth voice
    # is one embedding at 0.49 from the large clusters (so it is kept only just); with whole-window
    # embeddings, small clusters of other voices were at 0.36-0.62 and one of the same voice 0.68.
    min_cluster_seconds: float = 4.0
    distinct_similarity: float = 0.5
    # Same-speaker turns this close are joined.
    min_gap: float = 0.0
    # A frame is silence when segmentation-3.0 gives "nobody speaks" at least this probability,
    # as well as when that is its most likely class (pyannote's argmax, all there is at 1.0).
    # The model is unsure in the pauses of read speech (0.27-0.41 for "nobody" where the RMS is
    # -60 dBFS), and argmax keeps those pauses in the turn. Measured (``bench.mono_sweep --set
    # silence_from=1.0,0.3``, raw diarizer DER): 0.3 takes the single voices from 16.5 / 5.1% to
    # 5.1 / 1.6%, but EN2002a loses its fourth voice (29.7 -> 34.3%), the real phone call goes
    # 5.8 -> 6.0% and the synthetic telephone calls lose up to 2.6 points (missed speech: speech
    # through the telephone band is heard less surely). Not the default for a phone product.
    silence_from: float = 1.0
    # Where the VAD hears no voice (Silero, unpadded: ``Track.voiced``), a frame is silence when
    # "nobody speaks" has at least this probability: two models in doubt together. That takes the
    # pauses of read speech out of the turns without the losses above, since speech the
    # segmentation doubts is speech Silero hears. Measured (``bench.mono_sweep --set
    # quiet_silence_from=1.0,0.3,0.2,0.1``, raw diarizer DER): librispeech 16.5 -> 5.1 / 2.8 /
    # 2.1%, librivox 5.1 -> 3.0 / 3.0 / 3.5%, EN2002a 29.7 -> 30.0 / 30.2 / 31.1%, the phone call
    # 5.8 -> 5.9 / 6.0 / 6.0%, the other AMI clips within 0.3 points. Silero's regions padded
    # 100 ms (as Whisper gets them) leave that margin in the turns: librispeech 5.3% at 0.2.
    # (Turns cut to Silero's regions outright took the single voices to 5.3 / 3.6%, but the AMI
    # clips lost speech Silero misses: 11.4 -> 19.3% on the 3-speaker clip, 29.7 -> 35.3% on
    # EN2002a.)
    quiet_silence_from: float = 0.2
    # Which speakers talk in a frame is ranked by the model's probability that each local speaker
    # talks (the sum of its powerset classes' probabilities), the largest over the local speakers
    # of each speaker, summed over the windows, rather than by the windows' binarized activity
    # (pyannote's ``to_diarization``): a voice the windows hear a little less surely loses to one
    # they hear surely, where binarized activity ties. How many talk stays the average of the
    # binarized windows' counts (pyannote's ``speaker_count``). Measured (raw diarizer DER,
    # ``bench.mono_sweep``): EN2002a 30.2 -> 25.5% (confusion 11.2 -> 6.6%), the AMI 3- and
    # 4-speaker clips 11.4 -> 11.0% and 12.3 -> 12.1%, the phone call 6.0 -> 4.5% (confusion
    # 1.7 -> 0.3%), the single voices and the synthetic calls (``bench.make_synthetic_calls``)
    # unchanged. With the ASR (``bench.accuracy``, tiny.en): EN2002a 25.5%, the phone call's DER
    # 6.4 -> 5.0% and word attribution 97.2 -> 98.6%, the four multi-speaker files' mean
    # 15.1 -> 13.4%.
    probability_ranking: bool = True
    # Weight each window's ranking by a Hamming window over its 10 s (pyannote's
    # ``Inference.aggregate(hamming=True)``: the middle of a window is heard with context on both
    # sides). With binarized activity it helps (EN2002a 30.2 -> 28.5%, the AMI clips 11.4 -> 11.0
    # and 12.3 -> 12.0%, the rest unchanged); with probabilities it trades EN2002a (25.5 -> 27.9%)
    # and the phone call (4.5 -> 4.7%) for the AMI clips (11.0 -> 9.8%, 12.1 -> 11.6%): more
    # errors in all, so off. Weighting the count too took the single voices 2.8 / 3.0 -> 3.5 /
    # 4.0% (false alarm in pauses); a warm-up (10% of each window's edges left out, pyannote's
    # ``warm_up``) took the phone call 6.0 -> 7.1% (missed speech). With EN2002a's local speakers
    # labelled from its reference (the two of a window kept apart) its DER is still 22.9%: 11
    # points are frames where three people talk, which segmentation-3.0's powerset (at most two
    # per frame) cannot give.
    hamming_ranking: bool = False

    @property
    def min_cluster_size(self) -> int:
        return max(1, math.ceil(self.min_cluster_seconds / self.step - 1e-9))

    segmentation_batch: int = field(default=_BATCH_CHUNKS, compare=False)


DEFAULT_PARAMS = MonoDiarizationParams()


def diarize(
    samples: np.ndarray,
    options: TranscribeOptions,
    hook: ProgressHook,
    segments: Sequence[AsrSegment] = (),
    voiced: Sequence[Span] | None = None,
    params: MonoDiarizationParams = DEFAULT_PARAMS,
) -> tuple[SpeakerTurn, ...]:
    """Speaker turns of a 16 kHz mono float32 signal, labelled "S1", "S2", ... by first speech;
    turns of two speakers overlap where both talk. With the ASR ``segments`` of the signal, every
    word lies in a turn. ``voiced``: where the VAD hears a voice (``speech.voiced_regions``), when
    the caller has it already."""
    samples = np.asarray(samples, dtype=np.float32)
    if not len(samples) or not np.any(samples):
        return ()
    if voiced is None and params.quiet_silence_from < 1.0:
        voiced = voiced_regions(samples)
    starts, activity, probability = _segment(samples, params, options.device, hook, voiced or ())
    if not activity.any():
        return ()
    locals_, features = _local_speakers(samples, starts, activity, params)
    if not locals_:
        return ()
    embeddings = campplus.embed(features, options.device)
    clean = np.array([seconds for _, _, seconds in locals_])
    labels = _cluster(embeddings, clean, [chunk for chunk, _, _ in locals_], options, params)
    spans = _reconstruct(len(samples), starts, activity, probability, locals_, labels, params)
    words = sorted((word for segment in segments for word in segment.words), key=lambda word: word.start)
    return label_by_first_appearance(widened_over_words(spans, words))


def _segment(
    samples: np.ndarray,
    params: MonoDiarizationParams,
    device: str,
    hook: ProgressHook,
    voiced: Sequence[Span] = (),
) -> tuple[list[int], np.ndarray, np.ndarray]:
    """(window start samples, (windows, frames, 3) bool activity of each local speaker, the same
    shape of the probability that each local speaker talks)."""
    chunk = int(segmentation_model.CHUNK_SECONDS * SAMPLE_RATE)
    step = max(1, int(params.step * SAMPLE_RATE))
    starts = list(range(0, max(len(samples) - chunk, 0) + 1, step))
    if starts[-1] + chunk < len(samples):
        starts.append(len(samples) - chunk)  # the last window flush with the end
    to_locals = np.zeros((len(_CLASS_LOCALS), _LOCAL_SPEAKERS), dtype=bool)
    for index, speakers in enumerate(_CLASS_LOCALS):
        to_locals[index, list(speakers)] = True
    model = segmentation_model.load(device)
    hook("diarization", completed=0, total=len(starts))
    out, probabilities = [], []
    for first in range(0, len(starts), params.segmentation_batch):
        batch = starts[first : first + params.segmentation_batch]
        chunks = np.stack([_padded(samples[start : start + chunk], chunk) for start in batch])
        log_probabilities = model(chunks[:, None, :])
        classes = log_probabilities.argmax(axis=-1)
        silence = np.exp(log_probabilities[..., 0])
        surely_silent = silence >= params.silence_from
        if params.quiet_silence_from < 1.0:
            quiet = ~_inside(batch, silence.shape[1], voiced)
            surely_silent |= quiet & (silence >= params.quiet_silence_from)
        out.append(to_locals[np.where(surely_silent, 0, classes)])
        probabilities.append(np.exp(log_probabilities) @ to_locals)
        hook("diarization", completed=first + len(batch), total=len(starts))
    return starts, np.concatenate(out), np.concatenate(probabilities).astype(np.float32)


def _inside(starts: Sequence[int], n_frames: int, regions: Sequence[Span]) -> np.ndarray:
    """(windows, frames): whether each frame's centre lies in one of ``regions``."""
    frame = segmentation_model.PyanNet
    times = np.asarray(starts)[:, None] / SAMPLE_RATE + np.arange(n_frames) * frame.FRAME_STEP
    times = times + frame.FRAME_DURATION / 2
    bounds = np.asarray(union(regions), dtype=float).reshape(-1)
    return np.searchsorted(bounds, times, side="right") % 2 == 1


def _padded(samples: np.ndarray, length: int) -> np.ndarray:
    return np.pad(samples, (0, length - len(samples)))


# (window index, local speaker, seconds of speech alone) of each local speaker embedded.
LocalSpeaker = tuple[int, int, float]


def _local_speakers(
    samples: np.ndarray, starts: Sequence[int], activity: np.ndarray, params: MonoDiarizationParams
) -> tuple[list[LocalSpeaker], list[np.ndarray]]:
    """The local speakers that talk in each window, and the filterbank frames each is embedded on."""
    bank = campplus.fbank(samples)
    frame_step = segmentation_model.PyanNet.FRAME_STEP
    centre = segmentation_model.PyanNet.FRAME_DURATION / 2
    n_frames = activity.shape[1]
    per_window = int(segmentation_model.CHUNK_SECONDS * SAMPLE_RATE) // campplus.FRAME_SHIFT
    min_frames = 20  # CAM++ needs a few frames; shorter selections are repeated to this length
    locals_: list[LocalSpeaker] = []
    features: list[np.ndarray] = []
    for index, start in enumerate(starts):
        first = start // campplus.FRAME_SHIFT
        rows = np.arange(first, min(first + per_window, len(bank)))
        if not len(rows):
            continue
        # The segmentation frame nearest to each filterbank frame's centre.
        times = (rows * campplus.FRAME_SHIFT + campplus.FRAME_LENGTH / 2 - start) / SAMPLE_RATE
        nearest = np.clip(np.rint((times - centre) / frame_step).astype(int), 0, n_frames - 1)
        active = activity[index][nearest]  # (rows, 3)
        alone = active & (active.sum(axis=1, keepdims=True) == 1)
        for speaker in range(_LOCAL_SPEAKERS):
            if not activity[index][:, speaker].any():
                continue
            clean_seconds = float(alone[:, speaker].sum()) * campplus.FRAME_SHIFT / SAMPLE_RATE
            mask = alone[:, speaker] if clean_seconds >= params.min_clean_seconds else active[:, speaker]
            chosen = rows[mask]
            if not len(chosen):
                continue
            most = int(params.max_embed_seconds * SAMPLE_RATE / campplus.FRAME_SHIFT)
            if len(chosen) > most:
                first_kept = (len(chosen) - most) // 2
                chosen = chosen[first_kept : first_kept + most]
            if len(chosen) < min_frames:
                chosen = np.resize(chosen, min_frames)
            locals_.append((index, speaker, clean_seconds))
            features.append(bank[chosen])
    return locals_, features


def _cluster(
    embeddings: np.ndarray,
    clean_seconds: np.ndarray,
    windows: Sequence[int],
    options: TranscribeOptions,
    params: MonoDiarizationParams,
) -> np.ndarray:
    """A speaker index per local speaker."""
    train = np.flatnonzero(clean_seconds >= params.min_train_seconds)
    if len(train) < 2:
        train = np.arange(len(embeddings))
    centroids = _speaker_centroids(embeddings[train], options, params)
    return _assigned(embeddings, centroids, windows)


def speaker_count_and_centroids(
    embeddings: np.ndarray, options: TranscribeOptions, params: MonoDiarizationParams = DEFAULT_PARAMS
) -> np.ndarray:
    """(speakers, 192) centroids found on L2-normalised ``embeddings`` (exposed for benches)."""
    return _speaker_centroids(embeddings, options, params)


def _speaker_centroids(
    embeddings: np.ndarray, options: TranscribeOptions, params: MonoDiarizationParams
) -> np.ndarray:
    if len(embeddings) < 2:
        return _normalised(embeddings.mean(axis=0, keepdims=True))
    tree = linkage(embeddings, method="average", metric="cosine")
    if options.num_speakers is not None:
        labels = _cut(tree, min(options.num_speakers, len(embeddings)))
        return _centroids(embeddings, labels, np.unique(labels))
    labels = fcluster(tree, t=params.threshold, criterion="distance") - 1
    sizes = np.bincount(labels)
    large = np.flatnonzero(sizes >= min(params.min_cluster_size, len(embeddings)))
    low, high = options.min_speakers, min(options.max_speakers, len(embeddings))
    if not low <= max(len(large), 1) <= high:
        labels = _cut(tree, min(max(len(large), low), high))
        return _centroids(embeddings, labels, np.unique(labels))
    if not len(large):
        return _normalised(embeddings.mean(axis=0, keepdims=True))
    small = np.setdiff1d(np.unique(labels), large)
    if len(small):
        alike = (_centroids(embeddings, labels, small) @ _centroids(embeddings, labels, large).T).max(axis=1)
        distinct = small[alike < params.distinct_similarity]
        kept = np.union1d(large, distinct[: max(0, high - len(large))])
    else:
        kept = large
    centroids = _centroids(embeddings, labels, kept)
    # The other small clusters join the nearest kept one; the centroids are then taken again.
    nearest = kept[np.argmax(embeddings @ centroids.T, axis=1)]
    labels = np.where(np.isin(labels, kept), labels, nearest)
    return _centroids(embeddings, labels, kept)


def _cut(tree: np.ndarray, k: int) -> np.ndarray:
    return fcluster(tree, t=k, criterion="maxclust") - 1


def _centroids(embeddings: np.ndarray, labels: np.ndarray, keep: np.ndarray) -> np.ndarray:
    return _normalised(np.stack([embeddings[labels == label].mean(axis=0) for label in keep]))


def _normalised(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def _assigned(embeddings: np.ndarray, centroids: np.ndarray, windows: Sequence[int]) -> np.ndarray:
    """Each local speaker to the most alike centroid, two of one window to different ones while
    there are centroids enough (the segmentation keeps the voices of one window apart)."""
    similarity = embeddings @ centroids.T
    labels = np.argmax(similarity, axis=1)
    by_window: dict[int, list[int]] = {}
    for index, window in enumerate(windows):
        by_window.setdefault(window, []).append(index)
    for members in by_window.values():
        if 1 < len(members) <= len(centroids):
            rows, columns = linear_sum_assignment(-similarity[members])
            labels[np.array(members)[rows]] = columns
    return labels


def _reconstruct(
    n_samples: int,
    starts: Sequence[int],
    activity: np.ndarray,
    probability: np.ndarray,
    locals_: Sequence[LocalSpeaker],
    labels: np.ndarray,
    params: MonoDiarizationParams,
) -> list[tuple[float, float, str]]:
    """(start, end, speaker) turns from the windows' activity of the speakers found."""
    frame_step = segmentation_model.PyanNet.FRAME_STEP
    n_frames = activity.shape[1]
    total = int(n_samples / SAMPLE_RATE / frame_step) + 1
    speakers = int(labels.max()) + 1
    score = np.zeros((total, speakers))
    count = np.zeros(total)
    heard = np.zeros(total)
    offsets = [int(round(start / SAMPLE_RATE / frame_step)) for start in starts]
    for window, offset in enumerate(offsets):
        kept = min(n_frames, total - offset)
        count[offset : offset + kept] += activity[window, :kept].sum(axis=1)
        heard[offset : offset + kept] += 1
    window_scores = np.zeros((len(starts), n_frames, speakers))
    heard_as = probability if params.probability_ranking else activity
    for (window, local, _), label in zip(locals_, labels, strict=True):
        scores = window_scores[window, :, label]
        np.maximum(scores, heard_as[window, :, local], out=scores)
    weights = np.hamming(n_frames) if params.hamming_ranking else np.ones(n_frames)
    for window, offset in enumerate(offsets):
        kept = min(n_frames, total - offset)
        score[offset : offset + kept] += weights[:kept, None] * window_scores[window, :kept]
    talking = np.minimum(np.rint(count / np.maximum(heard, 1)).astype(int), speakers)
    ranked = np.argsort(-score, axis=1, kind="stable")
    on = np.zeros((total, speakers), dtype=bool)
    for rank in range(speakers):
        rows = np.flatnonzero(talking > rank)
        chosen = ranked[rows, rank]
        rows, chosen = rows[score[rows, chosen] > 0], chosen[score[rows, chosen] > 0]
        on[rows, chosen] = True
    centre = segmentation_model.PyanNet.FRAME_DURATION / 2
    duration = n_samples / SAMPLE_RATE
    spans: list[tuple[float, float, str]] = []
    for speaker in range(speakers):
        edges = np.flatnonzero(np.diff(np.concatenate([[0], on[:, speaker].astype(np.int8), [0]])))
        runs: list[list[float]] = []
        for first, stop in zip(edges[::2], edges[1::2], strict=True):
            start = max(0.0, first * frame_step + centre - frame_step / 2)
            end = min(duration, (stop - 1) * frame_step + centre + frame_step / 2)
            if runs and start - runs[-1][1] <= params.min_gap:
                runs[-1][1] = end
            elif end > start:
                runs.append([start, end])
        spans.extend((float(start), float(end), str(speaker)) for start, end in runs)
    return sorted(spans)


def widened_over_words(
    spans: Sequence[tuple[float, float, str]], words: Sequence[Word]
) -> list[tuple[float, float, str]]:
    """Turns that meet every word: a word that meets no turn widens the nearest turn over it
    (turns may overlap; the widened turn stops at the word)."""
    bounds = sorted([start, end] for start, end, _ in spans)
    labels = [label for _, _, label in sorted(spans)]
    for word in words:
        start, end = word.start, max(word.end, word.start + _WHISPER_STEP)
        began = bounds[: bisect.bisect_left([low for low, _ in bounds], end)]
        if not bounds or any(low < end and start < high for low, high in began):
            continue
        nearest = min(bounds, key=lambda bound: max(bound[0] - end, start - bound[1]))
        nearest[0], nearest[1] = min(nearest[0], start), max(nearest[1], end)
    return _joined([(low, high, label) for (low, high), label in zip(bounds, labels, strict=True)])


def _joined(spans: Sequence[tuple[float, float, str]]) -> list[tuple[float, float, str]]:
    """Same-speaker spans that overlap or touch, joined; sorted by start."""
    by_speaker: dict[str, list[tuple[float, float]]] = {}
    for start, end, label in spans:
        by_speaker.setdefault(label, []).append((start, end))
    joined: list[tuple[float, float, str]] = []
    for label, own in by_speaker.items():
        joined.extend((float(start), float(end), label) for start, end in union(own))
    return sorted(joined)
