"""Find hold music and call-progress tones, so a transcript labels them instead of giving them a voice.

On a call the agent's channel also carries what the phone system plays: hold music, IVR jingles,
ringback, dial/busy tones, DTMF, beeps. None of it is the agent speaking. Spectral rules, not a
model, tell them apart: a numpy STFT costs about 0.3% of the audio's duration (Silero VAD for the
speech veto about 0.6% more), and every threshold below has a physical reason rather than a fit
to one recording.

Frames: 64 ms Hann windows every 50 ms over the telephone band (150-3800 Hz, which also leaves out
mains hum). 64 ms gives 15.6 Hz bins: enough to split the 350/440 Hz dial-tone pair and the
440/480 Hz ringback pair into their two tones.

- Active: the frame's band level is clearly above the recording's noise floor
  (``active_above_floor_db`` over its 10th-percentile frame), or loud in absolute terms
  (``loud_dbfs``: a call left on hold for its whole length has no quiet floor to compare with), and
  never below ``silent_dbfs``.
- Tone: a pure tone or a dual tone puts its energy into one or two spectral lobes (a Hann window's
  main lobe is +-2 bins): the two strongest lobes hold ``tone_min_share`` of the band energy and
  the third is ``tone_max_third_db`` below the first (speech and music have many harmonics within
  20 dB of each other), at most ``tone_max_peaks`` prominent peaks, and the strongest bin stays
  put (+-1 bin) for ``tone_min_frames`` frames: stationary and narrow-band. Within music, such a
  frame is a held note, not a tone.
- Music: several prominent peaks (``music_min_peaks`` local maxima ``peak_prominence_db`` above
  the frame's median bin), which persist from frame to frame (``music_min_persistence`` of them,
  averaged over 1 s) because notes are held; speech glides in pitch and stops between syllables:
  on the eval and sample recordings its 1 s persistence stays at or below 0.65, held notes of
  synthetic and band-limited music score 0.85-0.95. Music also moves on: a span needs a note
  change (a frame where most peaks are new) at least every ``music_max_s_per_change`` seconds,
  so a steady harmonic buzz is not called music. Hold music with singing is heard as speech by
  the speech detector and stays unlabelled there.
- Speech regions (from a speech detector, e.g. Silero VAD) are never labelled: the label must not
  take words away from someone talking over music.

Frames become spans when runs of one kind are closer than ``merge_gap_s`` with no speech between
(DTMF digits and busy-tone cadences, 0.5 s on/off, join into one span; music survives a rest);
music shorter than ``min_music_s`` and tones shorter than ``min_tone_s`` are dropped as too short
to matter. Measured on the eval and sample recordings: no span at all, with or without the veto.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np

from transcribe.intervals import overlapping, within
from transcribe.types import SAMPLE_RATE, NonSpeechKind, NonSpeechSpan, Utterance

FRAME = 1024  # 64 ms
HOP = 800  # 50 ms
BAND_HZ = (150.0, 3800.0)
LOBE_BINS = 2


@dataclasses.dataclass(frozen=True)
class NonSpeechParams:
    """The non-speech stage's thresholds (``NonSpeechParams()``: the defaults); the module notes say
    why each is what it is."""

    silent_dbfs: float = -60.0
    loud_dbfs: float = -40.0
    active_above_floor_db: float = 10.0
    tone_min_share: float = 0.9
    tone_max_third_db: float = -20.0
    tone_max_peaks: int = 4  # two tones, each allowed one distortion product (codecs, clipping)
    tone_min_frames: int = 2  # 100 ms: the shortest common DTMF digit still fills one whole frame
    peak_prominence_db: float = 15.0
    music_min_peaks: int = 3
    music_min_persistence: float = 0.75
    music_window_frames: int = 20  # 1 s
    note_change_persistence: float = 0.5
    music_max_s_per_change: float = 4.0
    merge_gap_s: float = 0.6
    min_music_s: float = 1.5
    min_tone_s: float = 0.3


# Speech regions for the veto: tighter than Whisper's own VAD padding (400 ms, 2 s of silence),
# since here they only protect speech and must not swallow the music that follows "please hold".
_CHUNK_FRAMES = 4096  # bounds memory: 4096 x 1024 float32 is 16 MiB, whatever the call's length
_POWER_FLOOR = 1e-12


def find_non_speech(
    samples: np.ndarray,
    channel: int | None,
    speech: Sequence[tuple[float, float]],
    params: NonSpeechParams = NonSpeechParams(),
) -> tuple[NonSpeechSpan, ...]:
    """Music and tone spans in mono 16 kHz ``samples`` (one channel), in time order, none inside
    ``speech``; ``channel`` is what the spans are labelled with (None for a mixdown)."""
    features = _Features.of(np.asarray(samples, dtype=np.float32), params.peak_prominence_db)
    if features.frames == 0:
        return ()
    active = features.level_db >= _active_threshold(features.level_db, params)
    starts = np.arange(features.frames) * HOP / SAMPLE_RATE
    speaking = overlapping(starts, starts + FRAME / SAMPLE_RATE, speech)
    usable = active & ~speaking
    music = _music_runs(features, usable, speaking, params)
    in_music = np.zeros(features.frames, dtype=bool)
    for start, end in music:
        in_music[start:end] = True
    # A note held over a quiet accompaniment looks like a tone; within music it is a note.
    tone = _runs(usable & ~in_music & _tone_frames(features, params), speaking, params.min_tone_s, params)
    duration = len(samples) / SAMPLE_RATE
    spans = [
        *(_span(start, end, "music", channel, duration) for start, end in music),
        *(_span(start, end, "tone", channel, duration) for start, end in tone),
    ]
    return tuple(sorted(spans, key=lambda span: span.start))


def drop_non_speech_words(
    utterances: Sequence[Utterance], spans: Sequence[NonSpeechSpan], channel_of: Mapping[str, int]
) -> tuple[Utterance, ...]:
    """``utterances`` without the words that lie wholly in music or a tone on their speaker's
    channel (any channel, for spans of a mixdown): what Whisper heard there was not a person.
    A word reaching out of a span is kept: Whisper often starts the first word after a pause too
    early, and losing a real word is worse than keeping a doubtful one.

    ``channel_of`` maps speaker labels to channels; a speaker without one (a mixdown) is checked
    against the mixdown's spans only. An utterance left without words is dropped.
    """
    if not spans:
        return tuple(utterances)
    result = []
    for utterance in utterances:
        channel = channel_of.get(utterance.speaker)
        mine = [(s.start, s.end) for s in spans if s.channel is None or s.channel == channel]
        words = tuple(w for w in utterance.words if not within((w.start, w.end), mine))
        if len(words) == len(utterance.words):
            result.append(utterance)
        elif words:
            result.append(
                dataclasses.replace(
                    utterance,
                    start=words[0].start,
                    end=words[-1].end,
                    text=" ".join(w.text for w in words),
                    words=words,
                )
            )
    return tuple(result)


@dataclasses.dataclass(frozen=True)
class _Features:
    """Per-frame measurements, each an array with one value per frame."""

    level_db: np.ndarray  # band level, dB relative to full scale
    lobe_share: np.ndarray  # share of band energy in the two strongest lobes
    third_db: np.ndarray  # third-strongest lobe relative to the strongest
    dominant: np.ndarray  # bin of the strongest lobe
    peaks: np.ndarray  # number of prominent peaks
    persistence: np.ndarray  # share of this frame's peaks already there (+-1 bin) in the previous one

    @property
    def frames(self) -> int:
        return len(self.level_db)

    @classmethod
    def of(cls, samples: np.ndarray, peak_prominence_db: float) -> _Features:
        if len(samples) < FRAME:
            return cls(*(np.zeros(0) for _ in range(6)))
        window = np.hanning(FRAME).astype(np.float32)
        bins = np.fft.rfftfreq(FRAME, 1 / SAMPLE_RATE)
        band = (bins >= BAND_HZ[0]) & (bins <= BAND_HZ[1])
        # Sum of |X|^2 over a band, scaled to the band-limited signal's mean square (a sine of
        # amplitude a reads a^2/2, as in the time domain).
        scale = 2.0 / (FRAME * float(np.sum(window * window)))
        framed = np.lib.stride_tricks.sliding_window_view(samples, FRAME)[::HOP]  # a view: no copy
        parts: list[tuple[np.ndarray, ...]] = []
        previous = np.zeros(int(band.sum()), dtype=bool)
        for first in range(0, len(framed), _CHUNK_FRAMES):
            power = np.abs(np.fft.rfft(framed[first : first + _CHUNK_FRAMES] * window, axis=1))[:, band] ** 2
            power = power.astype(np.float64) + _POWER_FLOOR
            part, previous = _measure(power, scale, previous, peak_prominence_db)
            parts.append(part)
        return cls(*(np.concatenate(column) for column in zip(*parts, strict=True)))


def _measure(
    power: np.ndarray, scale: float, previous: np.ndarray, peak_prominence_db: float
) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """Measurements of one chunk of frames, and its last frame's peaks for the next chunk."""
    total = power.sum(axis=1)
    rows = np.arange(len(power))
    remaining = power.copy()
    lobes = []
    dominant = remaining.argmax(axis=1)
    for _ in range(3):
        centre = remaining.argmax(axis=1)
        lobe = np.clip(centre[:, None] + np.arange(-LOBE_BINS, LOBE_BINS + 1), 0, power.shape[1] - 1)
        lobes.append(remaining[rows[:, None], lobe].sum(axis=1))
        remaining[rows[:, None], lobe] = 0.0
    log_power = 10 * np.log10(power)
    median = np.median(log_power, axis=1, keepdims=True)
    inner = log_power[:, 1:-1]
    peaks = np.zeros_like(power, dtype=bool)
    peaks[:, 1:-1] = (
        (inner > log_power[:, :-2]) & (inner >= log_power[:, 2:]) & (inner > median + peak_prominence_db)
    )
    before = np.vstack([previous[None, :], peaks[:-1]])
    near_before = before.copy()
    near_before[:, 1:] |= before[:, :-1]
    near_before[:, :-1] |= before[:, 1:]
    counts = peaks.sum(axis=1)
    persistence = (peaks & near_before).sum(axis=1) / np.maximum(counts, 1)
    measured = (
        10 * np.log10(total * scale),
        (lobes[0] + lobes[1]) / total,
        10 * np.log10((lobes[2] + _POWER_FLOOR) / lobes[0]),
        dominant,
        counts,
        persistence,
    )
    return measured, peaks[-1]


def _active_threshold(level_db: np.ndarray, params: NonSpeechParams) -> float:
    floor = float(np.percentile(level_db, 10))
    return max(params.silent_dbfs, min(floor + params.active_above_floor_db, params.loud_dbfs))


def _music_runs(
    features: _Features, usable: np.ndarray, speaking: np.ndarray, params: NonSpeechParams
) -> list[tuple[int, int]]:
    """[start, end) frame ranges of music: peaky runs that hold notes somewhere and change notes."""
    peaky = usable & (features.peaks >= params.music_min_peaks)
    # Centred 1 s average ("same" mode alone would return the window's length for shorter input).
    window = params.music_window_frames
    averaged = np.convolve(features.persistence, np.ones(window) / window)
    held = averaged[(window - 1) // 2 :][: features.frames]
    # Hysteresis: the whole peaky run counts once it holds notes somewhere, so the music's first
    # and last half second (where the 1 s average still takes in silence) belong to it too.
    music = _runs_containing(peaky, peaky & (held >= params.music_min_persistence))
    change = features.persistence < params.note_change_persistence
    return [
        (start, end)
        for start, end in _runs(music, speaking, params.min_music_s, params)
        # Not counting the first frame: every sound's onset is a "change" from what came before.
        if change[start + 1 : end].sum() * params.music_max_s_per_change >= _seconds(start, end)
    ]


def _tone_frames(features: _Features, params: NonSpeechParams) -> np.ndarray:
    """Narrow-band frames in runs of at least ``tone_min_frames`` whose strongest bin holds still."""
    narrow = (
        (features.lobe_share >= params.tone_min_share)
        & (features.third_db <= params.tone_max_third_db)
        & (features.peaks <= params.tone_max_peaks)
    )
    linked = np.zeros_like(narrow)  # frame i continues the run of frame i - 1
    linked[1:] = narrow[1:] & narrow[:-1] & (np.abs(np.diff(features.dominant)) <= 1)
    run = np.cumsum(narrow & ~linked)  # run number of each narrow frame
    length = np.bincount(run[narrow], minlength=int(run[-1]) + 1)
    return narrow & (length[run] >= params.tone_min_frames)


def _runs_containing(flags: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """``flags`` in the runs of consecutive flagged frames that hold at least one seed."""
    starts = flags.copy()
    starts[1:] &= ~flags[:-1]
    run = np.cumsum(starts)
    seeded = np.zeros(int(run[-1]) + 1, dtype=bool)
    seeded[run[seeds & flags]] = True
    return flags & seeded[run]


def _runs(
    flags: np.ndarray, speaking: np.ndarray, min_seconds: float, params: NonSpeechParams
) -> list[tuple[int, int]]:
    """[start, end) frame ranges of ``flags``, at least ``min_seconds`` long, joined over gaps up
    to ``merge_gap_s`` where nobody speaks (a span must never cover speech)."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], flags.astype(np.int8), [0]))))
    merged: list[tuple[int, int]] = []
    for start, end in zip(edges[::2], edges[1::2], strict=True):
        if (
            merged
            and _seconds(merged[-1][1], start) <= params.merge_gap_s
            and not speaking[merged[-1][1] : start].any()
        ):
            merged[-1] = (merged[-1][0], int(end))
        else:
            merged.append((int(start), int(end)))
    return [(s, e) for s, e in merged if _seconds(s, e) >= min_seconds]


def _seconds(start: int, end: int) -> float:
    return (end - start) * HOP / SAMPLE_RATE


def _time(frame: int) -> float:
    """Where frame ``frame``'s share of the timeline starts: its centre less half a hop."""
    return (frame * HOP + (FRAME - HOP) / 2) / SAMPLE_RATE


def _span(start: int, end: int, kind: NonSpeechKind, channel: int | None, duration: float) -> NonSpeechSpan:
    return NonSpeechSpan(
        start=round(_time(start), 3),
        end=round(min(duration, _time(end)), 3),
        kind=kind,
        channel=channel,
    )
