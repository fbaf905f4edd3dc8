"""The answer to a request for payment data is covered, whatever ASR made of it.

Detection reads what ASR wrote, and ASR mishears numbers read out ("eight three nine" came out as
"a free item", ``bench.redaction``): the digits are then neither found nor redacted, yet still in
the audio. So, as contact-center redaction products do for PCI, when the asking party (the agent:
their channel on a stereo call, the speaker in the agent role on a mono one) asks for a card
number, a security code, an expiry date or an IBAN (or a phone number, where the organisation
redacts those), the other party's answer is redacted as that
type: their words from the end of the request until the asker speaks again (a backchannel such as
"mm-hmm" does not end it), at most ``max_answer_s`` long, and its audio. Not covered: an answer
in which a detector already found the type asked for (its finding covers the data), and an answer
that is clearly not the data: short, no digit heard, and a refusal or a question back ("I don't
have it with me", "which card?"). A mere mention ("my card was declined") asks for nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from transcribe.redaction.detect import CUES
from transcribe.redaction.entities import ENTITY_TYPES, EntityType, RedactionOptions
from transcribe.redaction.spoken import EDGE_PUNCTUATION, code_runs
from transcribe.types import ROLES, Role, Transcript, Utterance, Word


@dataclass(frozen=True, slots=True)
class RequestCue:
    """A sentence asks for ``entity`` when it holds one of ``cues`` and, where ``with_any`` is
    given, one of those too (a card's number is asked for, not the card: "card" and "number")."""

    entity: EntityType
    cues: tuple[str, ...]
    with_any: tuple[str, ...] = ()


# Nearest-first priority: "the code on the back of the card" asks for a CVC, not a card number.
REQUEST_CUES: tuple[RequestCue, ...] = (
    RequestCue("CVC", CUES["CVC"]),
    RequestCue("EXPIRY", CUES["EXPIRY"]),
    RequestCue("IBAN", ("iban", "i ban", "bank account", "rekeningnummer", "bankrekening")),
    RequestCue(
        "CARD",
        ("card", "kaart", "visa", "mastercard", "amex", "american express", "maestro"),
        ("number", "digits", "nummer", "cijfers"),
    ),
    RequestCue(
        "PHONE",
        ("phone", "telephone", "mobile", "cell", "reach you", "telefoon", "mobiel", "06", "bereik"),
        ("number", "nummer"),
    ),
)


@dataclass(frozen=True)
class AnswerCoverParams:
    """What is covered after a request, and what counts as one.

    ``entities``: the types whose answers are covered (those the call redacts, too). On by default
    for a card's number, code and expiry and for an IBAN (payment data, redacted by default), and
    for a phone number where the organisation redacts those: each is asked for by a cue that says
    nothing else ("on which phone number can we reach you?"; ``bench.redaction``: a phone number
    read out as "perfect for 3, 7, 3, 8, 1, 10 and 1"). Not for a bank account: "your account
    number" is as often the customer number.
    ``asker_roles``: the roles that ask; without a speaker in one, nothing is covered.
    ``max_answer_s``: the longest answer covered, from the end of the request (a card read out
    slowly with its expiry and code takes about 20 s).
    ``trail_s``: audio covered after the last word heard, up to the end of the answer: ASR drops
    the last digits of a number read out as well as it mishears them.
    ``backchannel_words``: the asker's utterances this short that ask for nothing ("mm-hmm, yes")
    do not end the answer.
    ``one_voice_answer_utterances``: on a call whose diarization heard one voice (a mono call's
    two parties merged, all of it in the agent role), the utterances after a request that are its
    answer (a pause ends one; a backchannel that opens it, "Sure.", does not count); 0: nothing is
    covered on such a call.
    ``min_words_without_digit``: an answer with no digit heard and fewer words is not the data
    ("yes", "okay, thank you": on a call heard as one voice, often the agent's own).
    ``refusal_max_words``, ``refusal_max_digits``, ``refusals``: an answer of at most so many
    words and digits in a row ("the old one or the new one" has one at most) that says one of
    ``refusals`` (matched at a word's start) or asks a question back is not the data.
    ``request_phrases``: besides a question mark, what makes a sentence a request ("please read me
    the card number"); ``elliptical_starts``: a sentence starting so is one too ("and the security
    code", which ASR writes with a full stop as often as with a question mark).
    """

    entities: frozenset[EntityType] = frozenset({"CARD", "CVC", "EXPIRY", "IBAN", "PHONE"})
    asker_roles: tuple[Role, ...] = ("agent",)
    max_answer_s: float = 30.0
    trail_s: float = 1.0
    backchannel_words: int = 3
    one_voice_answer_utterances: int = 1
    min_words_without_digit: int = 4
    refusal_max_words: int = 12
    refusal_max_digits: int = 1
    refusals: tuple[str, ...] = (
        "don't", "do not", "dont", "haven't", "have not", "can't", "cannot", "can not", "won't",
        "rather not", "not with me", "not sure", "no idea", "sorry", "last time", "on file",
        "already", "same card", "same one", "which card", "which one", "what do you mean",
        "geen", "niet", "weet ik", "heeft u al", "heb ik al", "vorige keer",
    )  # fmt: skip
    elliptical_starts: tuple[str, ...] = ("and the", "and your", "and also", "en de", "en uw", "en ook")
    request_phrases: tuple[str, ...] = (
        "can i have", "could i have", "may i have", "can i get", "could i get", "can you", "could you",
        "would you", "please", "give me", "tell me", "read", "go ahead", "what is", "what's",
        "i need", "i'll need", "let me have", "mag ik", "kunt u", "graag", "wat is", "noemt u",
    )  # fmt: skip

    def __post_init__(self) -> None:
        unknown = sorted(set(self.entities) - set(ENTITY_TYPES)) + sorted(set(self.asker_roles) - set(ROLES))
        if unknown:
            known = f"entities are {', '.join(ENTITY_TYPES)}; roles {', '.join(ROLES)}"
            raise ValueError(f"unknown {', '.join(unknown)}: {known}")


DEFAULT_COVER = AnswerCoverParams()


@dataclass(frozen=True, slots=True)
class Answer:
    """The answer to one request: the type asked for, the covered stretch, and its words (the
    answering party's, in time order, as (utterance, word) positions)."""

    entity: EntityType
    start: float
    end: float
    words: tuple[tuple[int, int], ...]


def requested(text: str, params: AnswerCoverParams) -> EntityType | None:
    """The type the last request among ``text``'s sentences asks for, or None for no request."""
    asked = None
    for sentence in re.findall(r"[^.?!]+[.?!]*", text.lower()):
        for cue in REQUEST_CUES:
            if cue.entity in params.entities and _says(sentence, cue) and _asks(sentence, params):
                asked = cue.entity
                break
    return asked


def answers(
    heard: Transcript, params: AnswerCoverParams = DEFAULT_COVER, heard_again: Mapping[int, str] | None = None
) -> tuple[Answer, ...]:
    """Every answer of ``heard`` to a request for a type ``params`` and the call's options cover,
    that is not clearly something else than the data. ``heard_again``: the text of utterances
    decoded a second time (``rehear``), by index; a request heard in either hearing counts."""
    heard_again = heard_again or {}
    covered = params.entities & frozenset(heard.options.redact)
    params_here = replace(params, entities=covered)
    askers = {s.label for s in heard.speakers if s.role in params.asker_roles}
    if not askers or not covered:
        return ()
    utterances = heard.utterances
    found = []
    one_voice = len(heard.speakers) == 1
    for n, request in enumerate(utterances):
        entity = None
        if request.speaker in askers:
            entity = requested(request.text, params_here) or requested(heard_again.get(n, ""), params_here)
        if entity is None:
            continue
        end = request.end + params.max_answer_s
        if one_voice:  # the diarization merged both parties: the next utterances are the answer
            after = _one_voice_answer_end(utterances, n, params)
            answering = set(range(n + 1, after))
            if after < len(utterances):
                end = min(end, utterances[after].start)
        else:
            answering = {u for u, utterance in enumerate(utterances) if utterance.speaker not in askers}
            for later in utterances[n + 1 :]:
                if (
                    later.speaker in askers
                    and later.start >= request.end
                    and _ends_answer(later, params_here)
                ):
                    end = min(end, later.start)
                    break
        words = [
            (u, w)
            for u in sorted(answering)
            for w, word in enumerate(utterances[u].words)
            if request.words[-1].start <= word.start < end
        ]
        words.sort(key=lambda at: utterances[at[0]].words[at[1]].start)
        said = [utterances[u].words[w] for u, w in words]
        if not said or _not_the_data(said, heard.language, params):
            continue
        start = min(request.end, said[0].start)
        found.append(Answer(entity, start, min(end, max(w.end for w in said) + params.trail_s), tuple(words)))
    return tuple(found)


def _says(sentence: str, cue: RequestCue) -> bool:
    return _any_at_word_start(sentence, cue.cues) and (
        not cue.with_any or any(word in sentence for word in cue.with_any)
    )


def _asks(sentence: str, params: AnswerCoverParams) -> bool:
    return (
        sentence.rstrip().endswith("?")
        or sentence.strip().startswith(params.elliptical_starts)
        or _any_at_word_start(sentence, params.request_phrases)
    )


def _ends_answer(utterance: Utterance, params: AnswerCoverParams) -> bool:
    """Whether the asker speaking ``utterance`` ends the answer: more than a backchannel, or a
    new request (which has an answer of its own)."""
    return len(utterance.words) > params.backchannel_words or requested(utterance.text, params) is not None


def _one_voice_answer_end(utterances: Sequence[Utterance], request: int, params: AnswerCoverParams) -> int:
    """The index after the answer to ``utterances[request]`` on a call heard as one voice: the next
    ``one_voice_answer_utterances`` utterances, not counting a backchannel that opens the answer
    ("Sure." and then the number)."""
    first = request + 1
    while (
        params.one_voice_answer_utterances
        and first < len(utterances)
        and len(utterances[first].words) <= params.backchannel_words
        and not any(char.isdigit() for char in utterances[first].text)
    ):
        first += 1
    return min(first + params.one_voice_answer_utterances, len(utterances))


def _not_the_data(words: Sequence[Word], language: str, params: AnswerCoverParams) -> bool:
    runs = code_runs(list(enumerate(word.text for word in words)), (language, *RedactionOptions().languages))
    digits = max((sum(c.isdigit() for c in run.chars) for run in runs), default=0)  # in one run
    if digits == 0 and len(words) < params.min_words_without_digit:
        return True
    if digits > params.refusal_max_digits or len(words) > params.refusal_max_words:
        return False
    text = " ".join(word.text.strip().lower() for word in words)
    return "?" in text or _any_at_word_start(text.strip(EDGE_PUNCTUATION), params.refusals)


def _any_at_word_start(text: str, phrases: Sequence[str]) -> bool:
    return any(re.search(r"(?<!\w)" + re.escape(phrase), text) for phrase in phrases)
