"""Who spoke when: the speaker turns a transcript holds, and those its words give.

A diarization backend hears turns with acoustic edges and overlap, and the pipeline keeps them
(``Transcript.turns``). Transcripts made before that, and the naive baseline in ``bench``, have
only words; their timeline is derived here. Utterances are for reading (an utterance spans only
its words), while a timeline answers "who was talking at 12:04", and a speaker holds the floor
through the short pauses between their own words, which is how RTTM references are annotated.
So consecutive words of one speaker join into one turn across pauses shorter than
``UTTERANCE_PAUSE``, and a brief silence where the floor changes hands is split halfway between
the two speakers. Longer pauses stay silence. Words of two parties that overlap in time (overtalk
on a stereo call) stay overlapping turns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from transcribe.attribution import UTTERANCE_PAUSE
from transcribe.intervals import Span, subtract, union
from transcribe.types import SpeakerTurn, Transcript, Utterance

# A silence between two speakers shorter than this is split between them rather than left empty:
# Whisper's word times are off by about 150 ms at utterance edges (bench.accuracy's t0/t1), so a
# gap this short is mostly the edges of the two turns that the word times cut off.
_FLOOR_CHANGE_GAP = 0.5


def who_spoke_when(transcript: Transcript) -> tuple[SpeakerTurn, ...]:
    """The turns the diarization heard, or for a transcript without them, the turns of its words."""
    return transcript.turns or speaker_turns(transcript.utterances)


def speaker_turns(utterances: Sequence[Utterance]) -> tuple[SpeakerTurn, ...]:
    """Turns of same-speaker word runs, in time order; an utterance without word timings counts
    as one word spanning it."""
    spans = sorted(
        (word.start, word.end, utterance.speaker)
        for utterance in utterances
        for word in (utterance.words or (utterance,))
    )
    turns: list[SpeakerTurn] = []
    latest: dict[str, int] = {}  # speaker -> index of their latest turn
    for start, end, speaker in spans:
        mine = latest.get(speaker)
        if mine is not None and start - turns[mine].end < UTTERANCE_PAUSE and not _interjected(turns, mine):
            turns[mine] = SpeakerTurn(turns[mine].start, max(turns[mine].end, end), speaker)
            continue
        last = turns[-1] if turns else None
        if last is not None and 0 < start - last.end < _FLOOR_CHANGE_GAP:
            start = (last.end + start) / 2
            turns[-1] = SpeakerTurn(last.start, start, last.speaker)
        latest[speaker] = len(turns)
        turns.append(SpeakerTurn(start, end, speaker))
    return tuple(turns)


def _interjected(turns: Sequence[SpeakerTurn], index: int) -> bool:
    """Whether someone else took the floor after turn ``index`` ended: then its speaker's next
    words start a new turn. Someone talking over the turn (overtalk) does not end it."""
    own = turns[index]
    return any(turn.speaker != own.speaker and turn.start >= own.end for turn in turns[index + 1 :])


@dataclass(frozen=True)
class KeptTurnsParams:
    """The kept-turns stage's settings (``KeptTurnsParams()``: the defaults)."""

    # A voice without words stays a speaker when more than this share of its diarized time is
    # left once what the phone system played is cut out; less, and it was the diarizer hearing a
    # prompt or the music.
    wordless_kept_share: float = 0.5


def kept_turns(
    turns: Sequence[SpeakerTurn],
    utterances: Sequence[Utterance],
    played: Sequence[Span],
    params: KeptTurnsParams = KeptTurnsParams(),
) -> tuple[SpeakerTurn, ...]:
    """A mixdown's diarized turns as a transcript keeps them: the (start, end) spans the phone
    system ``played`` (music, tones, recorded prompts) cut out. A voice that said no word the ASR
    heard is still a person who spoke ("Mm. Yeah.", a third voice talked over), unless most of its
    time was something the phone system played: then it was the diarizer hearing the prompt."""
    worded = {utterance.speaker for utterance in utterances}
    holes = union(played)
    kept: list[SpeakerTurn] = []
    diarized: dict[str, float] = {}
    for turn in turns:
        diarized[turn.speaker] = diarized.get(turn.speaker, 0.0) + turn.end - turn.start
        kept.extend(
            SpeakerTurn(start, end, turn.speaker) for start, end in subtract([(turn.start, turn.end)], holes)
        )
    remaining: dict[str, float] = {}
    for turn in kept:
        remaining[turn.speaker] = remaining.get(turn.speaker, 0.0) + turn.end - turn.start
    voices = {
        speaker
        for speaker, seconds in remaining.items()
        if speaker in worded or seconds > diarized[speaker] * params.wordless_kept_share
    }
    return tuple(
        sorted((turn for turn in kept if turn.speaker in voices), key=lambda turn: (turn.start, turn.end))
    )
