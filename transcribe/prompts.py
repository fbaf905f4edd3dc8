"""Recorded IVR prompts: the words a phone system played, found by the organisation's prompt texts.

A greeting, a recording notice or a queue message is played in a recorded voice on a party's line
(on a stereo call, usually the agent's channel). Whisper transcribes it like speech, and it would
read as that party's words: in a dispute, "the agent gave the recording notice" must not rest on
a recording. An organisation knows the wording of its prompts, so the settings list them
(``ivr_prompts``), and a run of words that matches one closely, Whisper's word errors allowed,
becomes the words of the speaker ``IVR`` with the role "ivr".
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from itertools import groupby

from transcribe.attribution import split_by_speaker
from transcribe.types import Speaker, Utterance, Word

IVR_SPEAKER = "IVR"
# Shorter prompts are refused: two or three common words ("please hold") are said by people too.
MIN_PROMPT_WORDS = 4
_WORD = re.compile(r"[\w']+")


@dataclass(frozen=True)
class PromptParams:
    """The prompts stage's settings (``PromptParams()``: the defaults)."""

    # A run of words is a prompt when difflib's similarity of its letters to the prompt's is at
    # least this: it allows a misheard word or two in a sentence (tiny.en gets about one word in
    # ten wrong on phone audio), while a person's paraphrase of a prompt shares too little in
    # order to reach it.
    match: float = 0.8
    # A run may be this much shorter or longer than the prompt, for words Whisper dropped or added.
    length_slack: float = 0.25


def prompt_words(prompt: str) -> list[str]:
    """A prompt's words as they are compared: lower case, without punctuation."""
    return _WORD.findall(prompt.lower())


def label_prompts(
    utterances: Sequence[Utterance],
    prompts: Sequence[str],
    channels: Mapping[str, int] | None,
    recorded: Collection[int] = (),
    params: PromptParams = PromptParams(),
) -> tuple[tuple[Utterance, ...], Speaker | None]:
    """``utterances`` with the words of every occurrence of a prompt given to ``IVR_SPEAKER``, and
    the IVR as a speaker (on the channel its first prompt was heard on) if any prompt was heard.
    The ``recorded`` utterances (indices: found to be a recorded voice by ``transcribe.ivr_voice``)
    are the IVR's too.

    With a ``channels`` map (one party per channel, where the other party may talk over a prompt)
    each speaker's words are searched apart; in a mixdown, all words in time order, since
    diarization may have split a prompt between voices.
    """
    wanted = [words for words in map(prompt_words, prompts) if words]
    group_of = (lambda item: utterances[item[1]].speaker) if channels is not None else (lambda item: "")
    spoken = sorted(
        (
            (word.start, index, position)
            for index, utterance in enumerate(utterances)
            for position, word in enumerate(utterance.words)
        ),
        key=lambda item: (group_of(item), item[0]),
    )
    # (utterance index, word position) of the words played
    played = [(index, position) for index in recorded for position in range(len(utterances[index].words))]
    for _, group in groupby(spoken, key=group_of):
        places = [(index, position) for _, index, position in group]
        said = [_spoken_form(utterances[index].words[position]) for index, position in places]
        for first, stop in _occurrences(said, wanted, params):
            played.extend(places[first:stop])
    if not played:
        return tuple(utterances), None
    first_heard = min(played, key=lambda place: utterances[place[0]].words[place[1]].start)
    heard_on = utterances[first_heard[0]].speaker
    speaker = Speaker(IVR_SPEAKER, "ivr", channels.get(heard_on) if channels is not None else None)
    marked = set(played)
    parts = (
        part
        for index, utterance in enumerate(utterances)
        for part in split_by_speaker(
            utterance,
            [
                IVR_SPEAKER if (index, position) in marked else utterance.speaker
                for position in range(len(utterance.words))
            ],
        )
    )
    return tuple(sorted(parts, key=lambda utterance: (utterance.start, utterance.end))), speaker


def _spoken_form(word: Word) -> str:
    """A word as it is compared: lower case, punctuation and inner hyphens gone ("e-mail": "email")."""
    return "".join(_WORD.findall(word.text.lower()))


def _occurrences(
    said: Sequence[str], prompts: Sequence[list[str]], params: PromptParams
) -> list[tuple[int, int]]:
    """(first, stop) word ranges of ``said`` that match a prompt, disjoint and in order; of two
    matches that overlap, the closer one wins."""
    found: list[tuple[float, int, int]] = []
    for prompt in prompts:
        size = len(prompt)
        openings = set(prompt[:2])  # Whisper may drop or mishear the first word, rarely two
        slack = params.length_slack
        lengths = range(max(1, round(size * (1 - slack))), round(size * (1 + slack)) + 1)
        for first, word in enumerate(said):
            if word not in openings:
                continue
            best = max(
                (
                    (_similarity(said[first : first + length], prompt, params.match), length)
                    for length in lengths
                ),
                key=lambda scored: (scored[0], -abs(scored[1] - size)),
            )
            if best[0] >= params.match:
                found.append((best[0], first, first + best[1]))
    taken: list[tuple[int, int]] = []
    for _, first, stop in sorted(found, key=lambda match: -match[0]):
        if all(stop <= other_first or first >= other_stop for other_first, other_stop in taken):
            taken.append((first, stop))
    return sorted(taken)


def _similarity(run: Sequence[str], prompt: Sequence[str], least: float) -> float:
    """Similarity of the letters, spaces left out: Whisper's errors are often a word split or
    joined ("maybe" for "may be") or a changed ending, which cost a whole word compared by words."""
    matcher = SequenceMatcher(None, "".join(run), "".join(prompt), autojunk=False)
    if matcher.real_quick_ratio() < least or matcher.quick_ratio() < least:
        return 0.0  # cheap upper bounds first: most runs share too few letters to be the prompt
    return matcher.ratio()
