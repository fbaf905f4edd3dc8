"""Typed, immutable domain objects shared by every stage of the pipeline.

Times are float seconds from the start of the recording, named ``start``/``end`` everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np

from transcribe.redaction.entities import DEFAULT_ENTITIES, ENTITY_TYPES, EntityType

DiarizationBackend = Literal["auto", "channels", "embedded", "pyannote"]
Role = Literal["agent", "customer", "ivr", "other"]
ROLES: tuple[Role, ...] = ("agent", "customer", "ivr", "other")
MonoRoleRule = Literal["first_speaker_is_agent", "first_speaker_is_customer", "none"]
# How a speaker's role was decided: the stereo channel map, the call's agent recognised by voice,
# the mono first-speaker rule, or a reviewer's correction.
RoleSource = Literal["channel", "voice", "first_speaker", "reviewer"]
# music: hold music, IVR jingles, ringback melodies; tone: dial/ring/busy tones, DTMF, beeps.
NonSpeechKind = Literal["music", "tone"]


SAMPLE_RATE = 16_000  # what every model here expects


@dataclass(frozen=True)
class AudioInfo:
    """What probing a file (without decoding all of it) tells about its audio."""

    format: str  # container/codec as reported, e.g. "WAV/ULAW", "FLAC", "MP3"
    duration: float
    sample_rate: int
    channels: int


@dataclass(frozen=True, eq=False)
class Audio:
    """Decoded audio, channels kept, resampled to 16 kHz: the one array ASR and diarization share."""

    samples: np.ndarray  # float32, shape (channels, frames), read-only
    source: AudioInfo

    @property
    def channel_count(self) -> int:
        return int(self.samples.shape[0])

    @property
    def duration(self) -> float:
        return self.samples.shape[1] / SAMPLE_RATE

    def mono(self) -> np.ndarray:
        """Mixdown used by ASR and diarization on single-speaker-per-file paths."""
        return self.samples[0] if self.channel_count == 1 else self.samples.mean(axis=0, dtype=np.float32)


@dataclass(frozen=True, slots=True)
class Word:
    start: float
    end: float
    text: str
    probability: float
    speaker: str | None = None
    # What a redacted word was (its text is then the placeholder, e.g. "[CARD]"); None if kept.
    entity: EntityType | None = None


@dataclass(frozen=True, slots=True)
class AsrSegment:
    """One Whisper segment: the unit a speaker change is allowed to split."""

    start: float
    end: float
    text: str
    words: tuple[Word, ...]


@dataclass(frozen=True, slots=True)
class SpeakerTurn:
    start: float
    end: float
    speaker: str


@dataclass(frozen=True, slots=True)
class Utterance:
    speaker: str
    start: float
    end: float
    text: str
    words: tuple[Word, ...]


@dataclass(frozen=True, slots=True)
class NonSpeechSpan:
    """Something the phone system played, not a person: shown as such, never attributed as words.

    ``channel`` is the channel it was heard on, or None when it was found in a mixdown.
    """

    start: float
    end: float
    kind: NonSpeechKind
    channel: int | None


@dataclass(frozen=True, slots=True)
class Speaker:
    """A voice in one recording. ``label`` is what utterances refer to; ``role`` is correctable."""

    label: str
    role: Role | None = None
    channel: int | None = None
    display_name: str | None = None  # a person's name, when a reviewer has given one
    role_source: RoleSource | None = None  # None: no role, or a transcript from before it was kept
    # How alike this voice sounded to the call's agent's enrolled voiceprint (cosine); None where
    # it was not compared (stereo, no voiceprint enrolled, too little speech).
    agent_similarity: float | None = None


@dataclass(frozen=True)
class TranscribeOptions:
    model: str = "tiny.en"
    language: str | None = None
    diarization: DiarizationBackend = "auto"
    num_speakers: int | None = None
    min_speakers: int = 1
    max_speakers: int = 8
    hotwords: str | None = None
    # The organisation's recorded prompts (greeting, recording notice, queue messages), word for
    # word: words of a call that match one are the IVR's, not a person's (``transcribe.prompts``).
    ivr_prompts: tuple[str, ...] = ()
    device: str = "cpu"
    compute_type: str = "int8"
    beam_size: int = 5
    vad_filter: bool = True
    # Role of each channel, in channel order, for stereo calls (PBX convention: agent left).
    channel_roles: tuple[Role, ...] = ("agent", "customer")
    # Mono calls have no channel map; this rule decides which voice is the agent.
    mono_role_rule: MonoRoleRule = "first_speaker_is_agent"
    pyannote_pipeline: str | None = None
    hf_token: str | None = field(default=None, repr=False)
    # What is redacted from the transcript, the index and the audio (``transcribe.redaction``).
    redact: tuple[EntityType, ...] = tuple(e for e in ENTITY_TYPES if e in DEFAULT_ENTITIES)
    # Where a phone number said without a country code is dialled (when "PHONE" is redacted).
    phone_regions: tuple[str, ...] = ("NL",)
    # Stage parameters that differ from the measured defaults, as sorted ("stage.param", value)
    # pairs (``transcribe.call.stage_params`` checks them; settings' ``[pipeline]`` table sets them).
    pipeline_params: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        # JSON gives the pairs (and a value that is a list of words) back as lists: kept as
        # tuples, the options stay hashable and equal.
        pairs = (
            (key, tuple(value) if isinstance(value, list) else value) for key, value in self.pipeline_params
        )
        object.__setattr__(self, "pipeline_params", tuple(sorted(pairs)))


@dataclass(frozen=True)
class Transcript:
    language: str
    duration: float
    speakers: tuple[Speaker, ...]
    utterances: tuple[Utterance, ...]
    options: TranscribeOptions
    # Which models produced this, e.g. {"asr": "tiny.en", "diarization": "channels"}.
    models: dict[str, str]
    non_speech: tuple[NonSpeechSpan, ...] = ()  # music and tones, in time order
    # Who spoke when, as the diarization heard it: turns in time order, overlapping where two
    # people talk at once, with acoustic edges rather than word edges. Empty in transcripts made
    # before turns were kept; ``transcribe.timeline.who_spoke_when`` then derives them from words.
    turns: tuple[SpeakerTurn, ...] = ()


class ProgressHook(Protocol):
    """Progress callback in pyannote.audio's style: ``hook("asr", completed=3, total=10)``."""

    def __call__(self, step: str, *, completed: int | None = None, total: int | None = None) -> None: ...


def no_progress(step: str, *, completed: int | None = None, total: int | None = None) -> None:
    """The hook used when the caller wants no progress reports."""
