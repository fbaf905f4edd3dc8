"""A call as it goes through the pipeline, the stages it goes through, and their parameters by name.

``Call`` is the one working type: every stage takes one and gives a new one (``dataclasses.replace``),
so what each stage changed is plain, and a bench can keep the call after any stage and go on from
there. A ``Stage`` has a ``name``, a frozen ``params`` dataclass (its defaults are the measured
values) and ``apply``. The stages themselves are ``transcribe.stages``; this module only names
their parameter types, without importing the heavy libraries the stages use, so that settings can
check ``"stage.param"`` overrides when they are read (``stage_params``).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np

from transcribe.bleed import BleedParams
from transcribe.channel_voices import ChannelVoicesParams
from transcribe.intervals import Span
from transcribe.ivr_voice import IvrVoiceParams
from transcribe.nonspeech import NonSpeechParams
from transcribe.prompts import PromptParams
from transcribe.repeats import RepeatsParams
from transcribe.timeline import KeptTurnsParams
from transcribe.types import (
    SAMPLE_RATE,
    AsrSegment,
    Audio,
    NonSpeechSpan,
    ProgressHook,
    Speaker,
    SpeakerTurn,
    TranscribeOptions,
    Utterance,
    no_progress,
)


@dataclass(frozen=True, eq=False)
class Track:
    """One signal the pipeline works on (a channel, or the mixdown) with its speech found once:
    ``voiced``, where the VAD hears a voice (``transcribe.speech.voiced_regions``).
    ``label``: the party heard on a channel ("S1" for channel 0), "" for the mixdown."""

    channel: int | None
    label: str
    samples: np.ndarray
    voiced: tuple[Span, ...]

    @functools.cached_property
    def speech(self) -> tuple[Span, ...]:
        """``voiced`` padded as Whisper is given it: the stages that look around words take this."""
        from transcribe.speech import padded  # faster-whisper's VAD: not for settings, which import this

        return padded(self.voiced, len(self.samples) / SAMPLE_RATE)


@dataclass(frozen=True, eq=False)
class Call:
    """Everything known about a call at one point of the pipeline.

    ``channels`` maps each speaker heard on a channel of its own to that channel (one party per
    channel, transfers on a line included); None for a mixdown, whose speakers share one signal.
    ``segments`` holds each track's ASR segments, until they become ``utterances``. ``turns``:
    who spoke when as the transcript will keep it (a mixdown's start as the diarizer's).
    """

    audio: Audio
    options: TranscribeOptions
    backend: str  # "channels", "embedded" or "pyannote"
    tracks: tuple[Track, ...]
    channels: Mapping[str, int] | None
    cache_dir: Path
    hook: ProgressHook = no_progress
    language: str = "en"
    segments: tuple[tuple[AsrSegment, ...], ...] = ()
    utterances: tuple[Utterance, ...] = ()
    turns: tuple[SpeakerTurn, ...] = ()
    non_speech: tuple[NonSpeechSpan, ...] = ()
    # Utterances (indices) found to be in a recorded voice, which the prompts stage gives the IVR.
    recorded: frozenset[int] = frozenset()
    ivr: Speaker | None = None  # the phone system, when it was heard


class Stage(Protocol):
    """One step of the pipeline: ``apply`` gives the call after it; ``params`` is a frozen
    dataclass whose defaults are the measured values."""

    name: ClassVar[str]

    @property
    def params(self) -> Any: ...

    def apply(self, call: Call) -> Call: ...


@dataclass(frozen=True)
class NoParams:
    """For a stage that has nothing to tune."""


def _mono_diarization_params() -> type:
    from transcribe.diarization.mono import MonoDiarizationParams  # torch: only when asked for

    return MonoDiarizationParams


def _rehear_params() -> type:
    from transcribe.redaction.rehear import RehearParams  # faster-whisper: only when asked for

    return RehearParams


def _answer_cover_params() -> type:
    from transcribe.redaction.answers import AnswerCoverParams

    return AnswerCoverParams


# Each stage's parameter type by stage name: what ``"stage.param"`` overrides may name.
STAGE_PARAMS: dict[str, Callable[[], type]] = {
    "asr": lambda: NoParams,
    "repeats": lambda: RepeatsParams,
    "bleed": lambda: BleedParams,
    "diarize": _mono_diarization_params,  # the mono diarizer's (``transcribe.diarization.mono``)
    "attribute": lambda: NoParams,
    "nonspeech": lambda: NonSpeechParams,
    "ivr_voice": lambda: IvrVoiceParams,
    "prompts": lambda: PromptParams,
    "channel_voices": lambda: ChannelVoicesParams,
    "word_turns": lambda: NoParams,
    "kept_turns": lambda: KeptTurnsParams,
    "renumber": lambda: NoParams,
    # Redaction, after the path: the second hearing of numbers and the cover of answers to a
    # request for payment data (``transcribe.redaction.rehear``, ``.answers``).
    "rehear": _rehear_params,
    "answer_cover": _answer_cover_params,
}


class StageParamError(ValueError):
    """An override that names no stage, no parameter of its stage, or a value of the wrong type."""


def stage_params(overrides: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """The parameters of every stage an override names, as ``{stage: params}``, from
    ``("stage.param", value)`` pairs; strings (from the environment) become the default's type."""
    changes: dict[str, dict[str, Any]] = {}
    for key, value in overrides:
        stage, _, name = key.partition(".")
        if stage not in STAGE_PARAMS:
            raise StageParamError(
                f"unknown pipeline stage {stage!r} in {key!r}; stages: {', '.join(STAGE_PARAMS)}"
            )
        kinds = {f.name: f for f in dataclasses.fields(STAGE_PARAMS[stage]())}
        if name not in kinds:
            known = ", ".join(kinds) or "none"
            raise StageParamError(
                f"unknown parameter {name!r} of pipeline stage {stage!r}; its parameters: {known}"
            )
        changes.setdefault(stage, {})[name] = _typed(key, value, kinds[name].default)
    made = {}
    for stage, values in changes.items():
        try:
            made[stage] = STAGE_PARAMS[stage]()(**values)
        except ValueError as error:  # a value the parameters' own checks refuse
            raise StageParamError(f"pipeline stage {stage!r}: {error}") from None
    return made


def checked_overrides(
    overrides: Mapping[str, Any] | Iterable[tuple[str, Any]],
) -> tuple[tuple[str, Any], ...]:
    """Overrides as ``TranscribeOptions.pipeline_params`` keeps them: sorted ``("stage.param",
    value)`` pairs of the parameter's type; raises ``StageParamError`` on a name or value it
    cannot use."""
    pairs = list(overrides.items() if isinstance(overrides, Mapping) else overrides)
    params = stage_params(pairs)
    values = ((key, getattr(params[key.partition(".")[0]], key.partition(".")[2])) for key in dict(pairs))
    # A set of words is kept as a sorted tuple: the options are stored as JSON.
    return tuple(sorted((key, tuple(sorted(v)) if isinstance(v, frozenset) else v) for key, v in values))


def _typed(key: str, value: Any, default: Any) -> Any:
    kind = type(default)
    if kind in (tuple, frozenset):  # a list of words in the settings file
        if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
            raise StageParamError(f"pipeline parameter {key}={value!r}: expected a list of words")
        return kind(value)
    if isinstance(value, str) and kind is not str:
        text = value.strip()
        if kind is bool:
            if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise StageParamError(f"pipeline parameter {key}={value!r}: expected true or false")
            return text.lower() in ("true", "1", "yes")
        try:
            return kind(text)
        except ValueError:
            raise StageParamError(f"pipeline parameter {key}={value!r}: expected a {kind.__name__}") from None
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise StageParamError(f"pipeline parameter {key}={value!r}: expected a {kind.__name__}")
    return value
