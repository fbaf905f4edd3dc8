"""A second hearing of what may hold a number read out, so that redaction misses less of it.

Whisper decodes a call in 30 s windows with what came before as context, and mishears numbers read
out in it: "five zero four eight, seven six ..." came out as "time 0 4 8 7 6 ...", a card as
"4 .05 mm, 6 .08", a security code as "too high in four". The same stretch decoded on its own
often comes out right (``bench.redaction``'s synthetic calls). So each utterance that holds digits,
or that comes soon after a request for a number ("card", "security code", "IBAN", ...), is decoded
again alone, without VAD, and redaction looks for entities in both hearings
(``stage.redact_transcript``). So is the other party's utterance just before a number, with the
words Whisper does not know as hotwords ("IBAN"), so that a request heard as "What is your event?"
still starts the answer cover (``answers``). The transcript keeps its first hearing; a finding in
the second covers the words of the first said in its time. Only what is redacted can grow.
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
    # it half-hears. Empty: no prompt.
    prompt: str = ""
    # The other party's utterance before one heard again, if it says no cue, is heard again too with
    # this prompt (faster-whisper's ``hotwords``): a request for a word Whisper does not know is then
    # heard, and the answer cover (``answers``) and the cues see it. tiny.en heard "What is your
    # IBAN?" and "Can I have your IBAN please?" in six flite and espeak-ng voices, 8 and 16 kHz, as "event",
    # "ribbon", "Ivan", "opinion" (IBAN 0 of 24 times), and with "IBAN" as hotwords 16 of 24 times.
    # Only the request is heard so: the same prompt on the whole call made tiny.en write "made to
    # IBAN" for a security code read out (``bench.redaction --hotwords``). Empty: requests are
    # heard once.
    request_prompt: str = "IBAN"


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
    """A second hearing of each utterance of ``heard`` that may hold a number, and of the request
    before each one that holds code characters (``RehearParams.request_prompt``)."""
    options = replace(heard.options, vad_filter=False)
    languages = (heard.language, *RedactionOptions().languages)
    channel_of = {speaker.label: speaker.channel for speaker in heard.speakers}
    cues = [u for u in heard.utterances if says_cue(u.text)]
    coded = [
        index
        for index, utterance in enumerate(heard.utterances)
        if _code_characters(utterance, languages) >= params.min_code_characters
    ]
    numbers = {
        index
        for index, utterance in enumerate(heard.utterances)
        if any(c.start <= utterance.end and utterance.start - c.end <= params.after_cue_s for c in cues)
    }.union(coded)
    requests = _requests_before(heard.utterances, coded, params) if params.request_prompt else set()
    mixdown: np.ndarray | None = None
    hearings = []
    for index in sorted({*numbers, *requests}):
        utterance = heard.utterances[index]
        prompt = params.request_prompt if index in requests else params.prompt
        channel = channel_of.get(utterance.speaker)
        if channel is not None and channel < len(samples):
            signal = samples[channel]
        else:
            mixdown = samples.mean(axis=0) if mixdown is None else mixdown
            signal = mixdown
        first = max(0, int((utterance.start - params.pad_s) * SAMPLE_RATE))
        last = min(len(signal), int((utterance.end + params.pad_s) * SAMPLE_RATE))
        stretch = np.ascontiguousarray(signal[first:last])
        _, segments = recognize(model, stretch, replace(options, hotwords=prompt or None), no_progress)
        offset = first / SAMPLE_RATE
        words = tuple(
            replace(word, start=word.start + offset, end=word.end + offset)
            for segment in collapse_repeats(segments)
            for word in segment.words
        )
        if words:
            hearings.append(SecondHearing(index, words))
    return tuple(hearings)


def _requests_before(
    utterances: Sequence[Utterance], numbers: Sequence[int], params: RehearParams
) -> set[int]:
    """The utterance that may ask for each of ``numbers`` (utterances with code characters): the
    last one before it by another speaker, ending at most ``after_cue_s`` before it starts, that
    says no cue as first heard."""
    requests = set()
    for index in numbers:
        said = utterances[index]
        before = next((u for u in range(index - 1, -1, -1) if utterances[u].speaker != said.speaker), None)
        if before is None or said.start - utterances[before].end > params.after_cue_s:
            continue
        if not says_cue(utterances[before].text):
            requests.add(before)
    return requests


def _code_characters(utterance: Utterance, languages: Sequence[str]) -> int:
    said = list(enumerate(word.text for word in utterance.words))
    return sum(len(run.chars) for run in code_runs(said, languages))
