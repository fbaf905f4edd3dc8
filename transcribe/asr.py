"""Speech to timed words with faster-whisper: the one place that knows its API.

Phone calls are full of things that are not speech (silence, ring and dial tones, hold music,
line noise), and Whisper, asked to transcribe them, invents text ("Thank you.", "You"). Three
layers keep transcripts of non-speech empty:

1. Silero VAD (``vad_filter``) hands Whisper only the stretches that sound like speech.
2. Whisper's own no-speech test, at its published defaults (``NO_SPEECH_THRESHOLD`` with
   ``LOG_PROB_THRESHOLD``), and its compression-ratio test for looping output.
3. A segment whose words Whisper itself gives a mean probability below
   ``MIN_MEAN_WORD_PROBABILITY`` is dropped: that is a guess, not a hearing. Invented words on
   tones and noise score 0.00-0.05; real phone speech, even badly recognized, scores far higher.

Repetition loops inside a kept segment are the pipeline's next stage (``transcribe.repeats``).

When a window fails Whisper's quality tests it decodes again by sampling at a higher temperature.
The sampler starts from the same seed for every recording (``models.with_a_fresh_sampler``), so the
same recording always gives the same transcript: a transcript used as evidence must be reproducible.
"""

from __future__ import annotations

import ctranslate2
import numpy as np
from faster_whisper import WhisperModel

from transcribe.models import with_a_fresh_sampler
from transcribe.types import SAMPLE_RATE, AsrSegment, ProgressHook, TranscribeOptions, Word

NO_SPEECH_THRESHOLD = 0.6
LOG_PROB_THRESHOLD = -1.0
COMPRESSION_RATIO_THRESHOLD = 2.4
MIN_MEAN_WORD_PROBABILITY = 0.2
SAMPLING_SEED = 0


class AsrError(ValueError):
    """Options the chosen model cannot honour, e.g. a non-English language on an English-only model."""


def recognize(
    model: WhisperModel,
    samples: np.ndarray,
    options: TranscribeOptions,
    hook: ProgressHook,
    step: str = "asr",
) -> tuple[str, tuple[AsrSegment, ...]]:
    """(language, segments with word times) for mono float32 16 kHz ``samples``.

    ``condition_on_previous_text`` is off: on phone audio, feeding the previous window back as a
    prompt is what sends Whisper into repetition loops. Progress is in seconds of audio done.
    """
    language = _language_for(model, options)
    total = int(round(len(samples) / SAMPLE_RATE))
    if len(samples) == 0:
        hook(step, completed=0, total=0)
        return language or "en", ()
    with_a_fresh_sampler(model)
    ctranslate2.set_random_seed(SAMPLING_SEED)
    segments, info = model.transcribe(
        samples,
        language=language,
        beam_size=options.beam_size,
        word_timestamps=True,
        vad_filter=options.vad_filter,
        hotwords=options.hotwords,
        condition_on_previous_text=False,
        no_speech_threshold=NO_SPEECH_THRESHOLD,
        log_prob_threshold=LOG_PROB_THRESHOLD,
        compression_ratio_threshold=COMPRESSION_RATIO_THRESHOLD,
    )
    hook(step, completed=0, total=total)
    result = []
    for segment in segments:  # a generator: decoding happens while we iterate
        words = tuple(
            Word(float(w.start), float(w.end), w.word.strip(), float(w.probability))
            for w in segment.words or ()
            if w.word.strip()
        )
        if words and sum(w.probability for w in words) / len(words) >= MIN_MEAN_WORD_PROBABILITY:
            result.append(
                AsrSegment(
                    start=float(segment.start), end=float(segment.end), text=segment.text.strip(), words=words
                )
            )
        hook(step, completed=min(total, int(segment.end)), total=total)
    hook(step, completed=total, total=total)
    return info.language, tuple(result)


def _language_for(model: WhisperModel, options: TranscribeOptions) -> str | None:
    """The language to force, or None to detect; English-only models can only ever say "en"."""
    if model.model.is_multilingual:
        return options.language
    if options.language not in (None, "en"):
        raise AsrError(
            f"language '{options.language}' needs a multilingual model (e.g. 'base'); "
            f"model '{options.model}' is English-only"
        )
    return "en"
