"""The pipeline's stages: each heuristic of ``transcribe`` as a ``Stage`` over a ``Call``.

A stage is a frozen dataclass holding its ``params`` (defaults: the measured values, kept with
the heuristic they tune) and ``apply``, a thin call into its module. ``STEREO`` and ``MONO`` are the
ordered stages of each path; ``REQUIRED`` names those without which there is no transcript (the
rest can be left out, which ``bench.stage_ablation`` measures).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from transcribe.attribution import attribute_words, utterances_from_channels
from transcribe.bleed import BleedParams, drop_bleed
from transcribe.call import Call, NoParams, Stage, stage_params
from transcribe.channel_voices import ChannelVoicesParams, voices_on_channels
from transcribe.ivr_voice import IvrVoiceParams, opening_voice_alone, openings_in_another_voice
from transcribe.nonspeech import NonSpeechParams, drop_non_speech_words, find_non_speech
from transcribe.prompts import IVR_SPEAKER, PromptParams, label_prompts
from transcribe.repeats import RepeatsParams, collapse_repeats
from transcribe.timeline import KeptTurnsParams, kept_turns, speaker_turns
from transcribe.types import ProgressHook, SpeakerTurn, Utterance


@dataclass(frozen=True)
class Recognize:
    """Whisper on each channel of a stereo call (one bar over all of them), or on the mixdown."""

    params: NoParams = NoParams()
    name: ClassVar[str] = "asr"

    def apply(self, call: Call) -> Call:
        from transcribe.asr import recognize
        from transcribe.models import load_whisper

        options = call.options
        model = load_whisper(options.model, call.cache_dir, options.device, options.compute_type)
        if call.channels is None:
            language, segments = recognize(model, call.tracks[0].samples, options, call.hook)
            return replace(call, language=language, segments=(segments,))
        seconds = round(call.audio.duration)
        overall = len(call.tracks) * seconds
        heard = [
            recognize(model, track.samples, options, _offset(call.hook, n * seconds, overall))
            for n, track in enumerate(call.tracks)
        ]
        # The language of the first channel that has speech: a quiet channel's guess means nothing.
        language = next((lang for lang, segments in heard if segments), heard[0][0])
        call.hook("diarization", completed=1, total=1)  # exact by construction: one speaker per channel
        return replace(call, language=language, segments=tuple(segments for _, segments in heard))


@dataclass(frozen=True)
class CollapseRepeats:
    """Whisper's repetition loops kept once (``transcribe.repeats``)."""

    params: RepeatsParams = RepeatsParams()
    name: ClassVar[str] = "repeats"

    def apply(self, call: Call) -> Call:
        return replace(call, segments=tuple(collapse_repeats(s, self.params) for s in call.segments))


@dataclass(frozen=True)
class DropBleed:
    """Each party faintly leaks into the other's channel; Whisper must not make them say it twice
    (``transcribe.bleed``)."""

    params: BleedParams = BleedParams()
    name: ClassVar[str] = "bleed"

    def apply(self, call: Call) -> Call:
        heard = drop_bleed(call.segments, [track.samples for track in call.tracks], self.params)
        return replace(call, segments=heard)


@dataclass(frozen=True)
class Diarize:
    """Who spoke when in a mixdown: the mono diarizer (segmentation-3.0 + CAM++, with these
    parameters) or a pyannote pipeline. Turns overlap where two people talk at once."""

    params: Any = field(default_factory=lambda: _default_params("diarize"))
    name: ClassVar[str] = "diarize"

    def apply(self, call: Call) -> Call:
        track, (segments,) = call.tracks[0], call.segments
        if call.backend == "pyannote":
            from transcribe.diarization import pyannote_backend

            turns = pyannote_backend.diarize(track.samples, call.options, call.hook)
        else:
            from transcribe.diarization import mono

            turns = mono.diarize(track.samples, call.options, call.hook, segments, track.voiced, self.params)
        return replace(call, turns=turns)


@dataclass(frozen=True)
class Attribute:
    """Words to utterances: a channel's are its party's; a mixdown's word takes the speaker whose
    turn it overlaps most (``transcribe.attribution``)."""

    params: NoParams = NoParams()
    name: ClassVar[str] = "attribute"

    def apply(self, call: Call) -> Call:
        if call.channels is None:
            utterances = attribute_words(call.segments[0], call.turns)
        else:
            utterances = utterances_from_channels(
                [(track.label, segments) for track, segments in zip(call.tracks, call.segments, strict=True)]
            )
        call.hook("attribution", completed=1, total=1)
        return replace(call, utterances=utterances, segments=())


@dataclass(frozen=True)
class NonSpeech:
    """Music and tones per transcribed channel (hold music is played on one party's line), or in
    the mixdown; the words Whisper heard in them are nobody's (``transcribe.nonspeech``)."""

    params: NonSpeechParams = NonSpeechParams()
    name: ClassVar[str] = "nonspeech"

    def apply(self, call: Call) -> Call:
        found = [
            span for t in call.tracks for span in find_non_speech(t.samples, t.channel, t.speech, self.params)
        ]
        spans = tuple(sorted(found, key=lambda span: span.start))
        utterances = drop_non_speech_words(call.utterances, spans, call.channels or {})
        return replace(call, non_speech=spans, utterances=utterances)


@dataclass(frozen=True)
class RecordedVoice:
    """Utterances that open a party's channel in a recorded voice (the party's own voice to compare
    with), or a mixdown in a voice that only opens it (``transcribe.ivr_voice``)."""

    params: IvrVoiceParams = IvrVoiceParams()
    name: ClassVar[str] = "ivr_voice"

    def apply(self, call: Call) -> Call:
        device = call.options.device
        if call.channels is None:
            mixdown = call.tracks[0]
            found = opening_voice_alone(call.utterances, mixdown.samples, device, self.params, mixdown.speech)
        else:
            tracks = {track.channel: track for track in call.tracks}
            parties = {label: tracks[channel] for label, channel in call.channels.items()}
            found = openings_in_another_voice(
                call.utterances,
                {label: track.samples for label, track in parties.items()},
                device,
                self.params,
                {label: track.speech for label, track in parties.items()},
            )
        return replace(call, recorded=frozenset(found))


@dataclass(frozen=True)
class Prompts:
    """The organisation's recorded prompts, and what was found to be in a recorded voice, become the
    IVR's words (``transcribe.prompts``)."""

    params: PromptParams = PromptParams()
    name: ClassVar[str] = "prompts"

    def apply(self, call: Call) -> Call:
        utterances, ivr = label_prompts(
            call.utterances, call.options.ivr_prompts, call.channels, call.recorded, self.params
        )
        return replace(call, utterances=utterances, ivr=ivr, recorded=frozenset())


@dataclass(frozen=True)
class ChannelVoices:
    """A transfer or a supervisor: another voice on a party's line is a speaker of its own
    (``transcribe.channel_voices``)."""

    params: ChannelVoicesParams = ChannelVoicesParams()
    name: ClassVar[str] = "channel_voices"

    def apply(self, call: Call) -> Call:
        assert call.channels is not None, "a stage of the stereo path"
        speech = {track.channel: track.speech for track in call.tracks if track.channel is not None}
        utterances, channels = voices_on_channels(
            call.utterances, call.channels, call.audio.samples, call.options.device, self.params, speech
        )
        return replace(call, utterances=utterances, channels=channels)


@dataclass(frozen=True)
class WordTurns:
    """One party per channel: each channel's words are that party's turns, overtalk included."""

    params: NoParams = NoParams()
    name: ClassVar[str] = "word_turns"

    def apply(self, call: Call) -> Call:
        return replace(call, turns=speaker_turns(call.utterances))


@dataclass(frozen=True)
class KeptTurns:
    """A mixdown's diarized turns less what the phone system played (music, tones, recorded
    prompts), which the diarizer heard as anyone's; prompts are the IVR's turns."""

    params: KeptTurnsParams = KeptTurnsParams()
    name: ClassVar[str] = "kept_turns"

    def apply(self, call: Call) -> Call:
        prompts = [u for u in call.utterances if u.speaker == IVR_SPEAKER]
        played = [(span.start, span.end) for span in call.non_speech] + [(u.start, u.end) for u in prompts]
        turns = (*kept_turns(call.turns, call.utterances, played, self.params), *speaker_turns(prompts))
        return replace(call, turns=tuple(sorted(turns, key=lambda turn: (turn.start, turn.end))))


@dataclass(frozen=True)
class Renumber:
    """A mixdown's people as S1, S2, ... again in order of first speech: when the IVR took all the
    words of a voice the diarizer found, the agent would otherwise be "S2" beside no "S1"."""

    params: NoParams = NoParams()
    name: ClassVar[str] = "renumber"

    def apply(self, call: Call) -> Call:
        order = voices_in_order(call.utterances, call.turns)
        names = {old: f"S{number}" for number, old in enumerate(order, start=1)}

        def renamed(utterance: Utterance) -> Utterance:
            name = names.get(utterance.speaker, utterance.speaker)
            words = tuple(replace(word, speaker=name) for word in utterance.words)
            return replace(utterance, speaker=name, words=words)

        return replace(
            call,
            utterances=tuple(renamed(u) for u in call.utterances),
            turns=tuple(replace(turn, speaker=names.get(turn.speaker, turn.speaker)) for turn in call.turns),
        )


def voices_in_order(utterances: Sequence[Utterance], turns: Sequence[SpeakerTurn]) -> tuple[str, ...]:
    """The people heard: those with words in order of their first word (which the mono role rule
    goes by), then voices that said no word the ASR heard, in order of their first turn. A
    recorded prompt is nobody's."""
    worded = dict.fromkeys(u.speaker for u in utterances if u.speaker != IVR_SPEAKER)
    wordless = dict.fromkeys(t.speaker for t in turns if t.speaker != IVR_SPEAKER and t.speaker not in worded)
    return (*worded, *wordless)


# The two paths, in order. Stereo: one party per channel, so nothing to diarize.
STEREO: tuple[type[Stage], ...] = (
    Recognize,
    CollapseRepeats,
    DropBleed,
    Attribute,
    NonSpeech,
    RecordedVoice,
    Prompts,
    ChannelVoices,
    WordTurns,
)
MONO: tuple[type[Stage], ...] = (
    Recognize,
    CollapseRepeats,
    Diarize,
    Attribute,
    NonSpeech,
    RecordedVoice,
    Prompts,
    KeptTurns,
    Renumber,
)
REQUIRED = frozenset({"asr", "diarize", "attribute", "word_turns"})


def path(
    stereo: bool, params: Mapping[str, Any] = {}, without: frozenset[str] = frozenset()
) -> tuple[Stage, ...]:
    """The stages of a path, each with its ``params`` (by stage name; defaults where none are
    given), less those named in ``without``."""
    kinds = STEREO if stereo else MONO
    return tuple(
        kind(params[kind.name]) if kind.name in params else kind()  # type: ignore[call-arg]
        for kind in kinds
        if kind.name not in without
    )


def stages_for(stereo: bool, overrides: Sequence[tuple[str, Any]]) -> tuple[Stage, ...]:
    """A path's stages with ``TranscribeOptions.pipeline_params`` applied."""
    return path(stereo, stage_params(overrides))


def _default_params(stage: str) -> Any:
    from transcribe.call import STAGE_PARAMS

    return STAGE_PARAMS[stage]()()


def _offset(hook: ProgressHook, offset: int, overall: int) -> ProgressHook:
    """Per-channel ASR progress as one bar over all channels, not a bar that restarts per channel."""

    def report(step: str, *, completed: int | None = None, total: int | None = None) -> None:
        hook(step, completed=None if completed is None else offset + completed, total=overall)

    return report
