"""Render a Transcript as JSON (the stable contract), plain text, WebVTT, SubRip or RTTM.

Every renderer has the signature ``(transcript, file_id) -> str`` through ``FORMATS`` so the command
line and the app can offer them by name; only RTTM needs the file id.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from transcribe.timeline import who_spoke_when
from transcribe.types import (
    NonSpeechKind,
    NonSpeechSpan,
    Speaker,
    SpeakerTurn,
    TranscribeOptions,
    Transcript,
    Utterance,
    Word,
)

Renderer = Callable[[Transcript, str], str]
# Options that must never leave the process (a Hugging Face token in an exported file is a leak).
_PRIVATE_OPTIONS = frozenset({"hf_token"})
# How text formats show what the phone system played; square brackets, as subtitles mark sounds.
_NON_SPEECH_LABELS: dict[NonSpeechKind, str] = {"music": "hold music", "tone": "tone"}


def role_name(role: str) -> str:
    """How a role reads: "Agent", "Customer", "IVR", "Other"."""
    return "IVR" if role == "ivr" else role.title()


def speaker_display_name(speaker: Speaker) -> str:
    """What a reader sees: a name a reviewer gave, else the role ("Agent"), else the label ("S2")."""
    return speaker.display_name or (role_name(speaker.role) if speaker.role else speaker.label)


def speaker_display_names(speakers: Sequence[Speaker]) -> dict[str, str]:
    """Label -> display name, numbered where two voices would read alike ("Agent", "Agent 2"): a
    transfer puts a second voice on the agent's line, with the agent's role."""
    names: dict[str, str] = {}
    seen: Counter[str] = Counter()
    for speaker in speakers:
        name = speaker_display_name(speaker)
        seen[name] += 1
        names[speaker.label] = name if seen[name] == 1 else f"{name} {seen[name]}"
    return names


def to_json(t: Transcript) -> str:
    return json.dumps(_transcript_dict(t), ensure_ascii=False, indent=2)


def from_json(s: str) -> Transcript:
    data = json.loads(s)
    return Transcript(
        language=data["language"],
        duration=data["duration"],
        # role_source and agent_similarity are absent in JSON written before roles said how.
        speakers=tuple(Speaker(**s) for s in data["speakers"]),
        utterances=tuple(
            Utterance(
                speaker=u["speaker"],
                start=u["start"],
                end=u["end"],
                text=u["text"],
                words=tuple(Word(**w) for w in u["words"]),
            )
            for u in data["utterances"]
        ),
        options=options_from_json(data["options"]),
        models=dict(data["models"]),
        # Absent in JSON written before music and tones were labelled.
        non_speech=tuple(NonSpeechSpan(**span) for span in data.get("non_speech", ())),
        # Absent in JSON written before diarized turns were kept.
        turns=tuple(SpeakerTurn(**turn) for turn in data.get("turns", ())),
    )


def to_txt(t: Transcript) -> str:
    names = _display_names(t)
    return "".join(
        f"[{_clock(item.start, '.')}] {names(item.speaker)}: {item.text}\n"
        if isinstance(item, Utterance)
        else f"[{_clock(item.start, '.')}] [{_NON_SPEECH_LABELS[item.kind]} {_length(item)}]\n"
        for item in _timeline(t)
    )


def to_vtt(t: Transcript) -> str:
    names = _display_names(t)
    cues = (
        f"{_clock(item.start, '.')} --> {_clock(item.end, '.')}\n"
        + (
            f"<v {_escape(names(item.speaker))}>{_escape(item.text)}\n"
            if isinstance(item, Utterance)
            else f"{_sound(item)}\n"  # a sound, not a voice: no voice tag
        )
        for item in _timeline(t)
    )
    return "\n".join(("WEBVTT\n", *cues))


def to_srt(t: Transcript) -> str:
    names = _display_names(t)
    return "\n".join(
        f"{n}\n{_clock(item.start, ',')} --> {_clock(item.end, ',')}\n"
        + (f"{names(item.speaker)}: {item.text}\n" if isinstance(item, Utterance) else f"{_sound(item)}\n")
        for n, item in enumerate(_timeline(t), start=1)
    )


def to_rttm(t: Transcript, file_id: str) -> str:
    """Who spoke when (``transcribe.timeline``), overlapping turns included. Speakers only: music
    and tones are nobody's turn."""
    # RTTM is space-separated: a space inside the id would shift every column after it.
    file_id = "_".join(file_id.split()) or "recording"
    return "".join(_rttm_line(file_id, turn) for turn in who_spoke_when(t))


def _rttm_line(file_id: str, turn: SpeakerTurn) -> str:
    duration = turn.end - turn.start
    return f"SPEAKER {file_id} 1 {turn.start:.3f} {duration:.3f} <NA> <NA> {turn.speaker} <NA> <NA>\n"


def _ignoring_file_id(render: Callable[[Transcript], str]) -> Renderer:
    return lambda t, file_id: render(t)


FORMATS: dict[str, Renderer] = {
    "json": _ignoring_file_id(to_json),
    "txt": _ignoring_file_id(to_txt),
    "vtt": _ignoring_file_id(to_vtt),
    "srt": _ignoring_file_id(to_srt),
    "rttm": to_rttm,
}


def options_to_json(options: TranscribeOptions) -> dict[str, Any]:
    """The options as JSON values, without the private ones (a secret must never reach a file or the
    database)."""
    values = {
        field.name: getattr(options, field.name)
        for field in dataclasses.fields(options)
        if field.name not in _PRIVATE_OPTIONS
    }
    return {key: list(value) if isinstance(value, tuple) else value for key, value in values.items()}


def options_from_json(values: Mapping[str, Any]) -> TranscribeOptions:
    """Options read back from JSON. Written by an older version, they may lack newer options (the
    defaults apply) or carry ones since dropped (left out). JSON has no tuples; the frozen dataclass
    wants them (channel_roles, ivr_prompts)."""
    known = {field.name for field in dataclasses.fields(TranscribeOptions)}
    kept: dict[str, Any] = {
        key: tuple(value) if isinstance(value, list) else value
        for key, value in values.items()
        if key in known
    }
    return TranscribeOptions(**kept)


def _transcript_dict(t: Transcript) -> dict[str, Any]:
    return {
        "duration": _t(t.duration),
        "language": t.language,
        "speakers": [
            {
                "label": s.label,
                "role": s.role,
                "channel": s.channel,
                "display_name": s.display_name,
                "role_source": s.role_source,
                "agent_similarity": None if s.agent_similarity is None else round(s.agent_similarity, 3),
            }
            for s in t.speakers
        ],
        "utterances": [
            {
                "speaker": u.speaker,
                "start": _t(u.start),
                "end": _t(u.end),
                "text": u.text,
                "words": [
                    {
                        "start": _t(w.start),
                        "end": _t(w.end),
                        "text": w.text,
                        "probability": float(w.probability),
                        "speaker": w.speaker,
                        "entity": w.entity,
                    }
                    for w in u.words
                ],
            }
            for u in t.utterances
        ],
        "non_speech": [
            {"start": _t(s.start), "end": _t(s.end), "kind": s.kind, "channel": s.channel}
            for s in t.non_speech
        ],
        "turns": [
            {"start": _t(turn.start), "end": _t(turn.end), "speaker": turn.speaker} for turn in t.turns
        ],
        "options": options_to_json(t.options),
        "models": dict(t.models),
    }


def _t(value: float) -> float:
    """Milliseconds are finer than any word boundary Whisper or diarization can place."""
    return round(float(value), 3)


def _sound(span: NonSpeechSpan) -> str:
    return f"[{_NON_SPEECH_LABELS[span.kind]}]"


def _length(span: NonSpeechSpan) -> str:
    return f"{round(span.end - span.start, 1):g} s"


def _timeline(t: Transcript) -> list[Utterance | NonSpeechSpan]:
    """Utterances and music/tone spans in one time order, as a reader meets them."""
    return sorted((*t.utterances, *t.non_speech), key=lambda item: item.start)


def _display_names(t: Transcript) -> Callable[[str], str]:
    """Label -> display name; a label missing from ``speakers`` still shows, as itself."""
    names = speaker_display_names(t.speakers)
    return lambda label: names.get(label, label)


def _clock(seconds: float, decimal_mark: str) -> str:
    ms = round(seconds * 1000)
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    secs, ms = divmod(ms, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{decimal_mark}{ms:03d}"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
