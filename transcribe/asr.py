"""Speech to timed words with faster-whisper: the one place that knows its API."""

from __future__ import annotations

import numpy as np
from faster_whisper import WhisperModel

from transcribe.types import SAMPLE_RATE, AsrSegment, ProgressHook, TranscribeOptions, Word


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
    segments, info = model.transcribe(
        samples,
        language=language,
        beam_size=options.beam_size,
        word_timestamps=True,
        vad_filter=options.vad_filter,
        hotwords=options.hotwords,
        condition_on_previous_text=False,
    )
    hook(step, completed=0, total=total)
    result = []
    for segment in segments:  # a generator: decoding happens while we iterate
        words = tuple(
            Word(float(w.start), float(w.end), w.word.strip(), float(w.probability))
            for w in segment.words or ()
            if w.word.strip()
        )
        if words:
            result.append(AsrSegment(start=float(segment.start), end=float(segment.end),
                                     text=segment.text.strip(), words=words))
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
