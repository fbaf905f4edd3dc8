"""A second hearing of what may hold a number read out, so that redaction misses less of it.

Whisper decodes a call in 30 s windows with what came before as context, and mishears numbers read
out in it: "five zero four eight, seven six ..." came out as "time 0 4 8 7 6 ...", a card as
"4 .05 mm, 6 .08", a security code as "too high in four". The same stretch decoded on its own
often comes out right (``bench.redaction``'s synthetic calls). So each utterance that holds digits,
or that comes soon after a request for a number ("card", "security code", "IBAN", ...), is decoded
again alone, without VAD, and redaction looks for entities in both hearings
(``stage.redact_transcript``). The transcript keeps its first hearing; a finding in the second
covers the words of the first said in its time. Only what is redacted can grow.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from faster_whisper import WhisperModel  # type: ignore[import-untyped]

from transcribe.asr import recognize
from transcribe.call import stage_params
from transcribe.redaction.answers import DEFAULT_COVER, AnswerCoverParams
from transcribe.redaction.detect import says_cue
from transcribe.redaction.entities import RedactionOptions
from transcribe.redaction.spoken import code_runs
from transcribe.redaction.stage import Redaction, SecondHearing, redact_transcript
from transcribe.repeats import collapse_repeats
from transcribe.types import SAMPLE_RATE, Transcript, Utterance, no_progress


@dataclass(frozen=True)
class RehearParams:
    # An utterance is heard again when it holds this many digits and code letters...
    min_code_characters: int = 4
    # ...or when it starts within this many seconds of the end of an utterance with a cue for a
    # number (either party's: the agent asks, the customer may say "my card number is").
    after_cue_s: float = 20.0
    # Audio either side of the utterance, for the edges of its first and last words.
    pad_s: float = 0.3
    # Text Whisper is given as what came before the stretch (faster-whisper's ``hotwords`` prompt):
    # numbers written as digits there make it write the numbers it hears as digits, not as words
    # it half-hears. None: no prompt.
    prompt: str | None = None


def redact_call(
    model: WhisperModel,
    samples: np.ndarray,
    heard: Transcript,
    params: RehearParams | None = None,
    cover: AnswerCoverParams | None = None,
) -> Redaction:
    """``heard`` redacted as its options say, numbers heard twice, answers to requests for payment
    data covered as ``cover`` says; ``samples``: the call's audio, (channels, frames) at 16 kHz, as
    it was transcribed. ``params`` and ``cover`` default to the ``rehear`` and ``answer_cover``
    parameters of the transcript's pipeline settings (``TranscribeOptions.pipeline_params``)."""
    settings = stage_params(heard.options.pipeline_params)
    params = params or settings.get("rehear", RehearParams())
    cover = cover or settings.get("answer_cover", DEFAULT_COVER)
    again = hear_numbers_again(model, samples, heard, params) if heard.options.redact else ()
    return redact_transcript(heard, again, cover)


def hear_numbers_again(
    model: WhisperModel, samples: np.ndarray, heard: Transcript, params: RehearParams = RehearParams()
) -> tuple[SecondHearing, ...]:
    """A second hearing of each utterance of ``heard`` that may hold a number."""
    options = replace(heard.options, vad_filter=False, hotwords=params.prompt)
    languages = (heard.language, *RedactionOptions().languages)
    channel_of = {speaker.label: speaker.channel for speaker in heard.speakers}
    cues = [u for u in heard.utterances if says_cue(u.text)]
    mixdown: np.ndarray | None = None
    hearings = []
    for index, utterance in enumerate(heard.utterances):
        asked = any(c.start <= utterance.end and utterance.start - c.end <= params.after_cue_s for c in cues)
        if not asked and _code_characters(utterance, languages) < params.min_code_characters:
            continue
        channel = channel_of.get(utterance.speaker)
        if channel is not None and channel < len(samples):
            signal = samples[channel]
        else:
            mixdown = samples.mean(axis=0) if mixdown is None else mixdown
            signal = mixdown
        first = max(0, int((utterance.start - params.pad_s) * SAMPLE_RATE))
        last = min(len(signal), int((utterance.end + params.pad_s) * SAMPLE_RATE))
        _, segments = recognize(model, np.ascontiguousarray(signal[first:last]), options, no_progress)
        offset = first / SAMPLE_RATE
        words = tuple(
            replace(word, start=word.start + offset, end=word.end + offset)
            for segment in collapse_repeats(segments)
            for word in segment.words
        )
        if words:
            hearings.append(SecondHearing(index, words))
    return tuple(hearings)


def _code_characters(utterance: Utterance, languages: Sequence[str]) -> int:
    said = list(enumerate(word.text for word in utterance.words))
    return sum(len(run.chars) for run in code_runs(said, languages))
