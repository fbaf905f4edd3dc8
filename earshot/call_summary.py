"""A summary of one call: its key utterances, picked by classic extractive methods, no service.

Each sentence of the speaker-attributed transcript is scored twice: by cue phrases for what a
reader after the call needs (the customer's reason, the agent's promises, amounts, dates, the
outcome) and by its centrality, TextRank (PageRank over the cosine similarities of TF-IDF
sentence vectors). The best sentence of each kind found is kept first, then the most central
ones up to ``max_lines``, shown in call order with speaker and time so the player can jump there.

Written here rather than taken from ``sumy``: its sentence splitting needs NLTK data downloaded at
run time, and a call's sentences come split and timed by the transcript already. The transcript
given is the stored one, where redaction left placeholders ("[CARD]"): a summary never holds more
than the transcript page shows.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]

from transcribe.types import Role, Transcript, Utterance

__all__ = ["KINDS", "KeyKind", "SummaryLine", "SummaryParameters", "summarize"]

KeyKind = Literal["reason", "promise", "amount", "date", "outcome"]
KINDS: tuple[KeyKind, ...] = ("reason", "promise", "amount", "date", "outcome")

_NUMBER = (
    r"(?:\d+(?:[.,]\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen"
    r"|twenty|thirty|forty|fifty|hundred)"
)
_WEEKDAYS = r"monday|tuesday|wednesday|thursday|friday|saturday|sunday"
_MONTHS = r"january|february|march|april|may|june|july|august|september|october|november|december"


@dataclass(frozen=True)
class SummaryParameters:
    """What makes a sentence key. Cues are case-insensitive regular expressions; who may say them
    (``None``: anyone) keeps a customer's "I will wait" from reading as a promise."""

    max_lines: int = 6
    min_words: int = 3  # "Okay." and "Thank you." are never key
    cue_weight: float = 1.0  # a cue's worth against centrality, which is scaled to 0..1
    # A sentence with no cue is kept only this central at least: a short call's lines are few.
    min_centrality: float = 0.5
    damping: float = 0.85  # TextRank's, as in PageRank
    iterations: int = 100
    tolerance: float = 1e-6
    # The outcome is how the call ended: only sentences in this last share of the speech count.
    outcome_tail: float = 0.4
    cues: dict[KeyKind, tuple[str, ...]] = field(
        default_factory=lambda: {
            "reason": (
                r"\b(?:i am|i'm) calling (?:about|because|to)\b",
                r"\bi (?:was|have been|got) (?:charged|billed|told)\b",
                r"\b(?:my|the) \w+(?: \w+)? (?:is|has been|was|are|have been)"
                r" (?:not|down|broken|wrong|missing|late)\b",
                r"\bi (?:would like|want|need) to\b",
                r"\b(?:problem|issue|complaint|question) (?:with|about)\b",
                r"\bi have not (?:seen|received|got)\b",
                r"\bcalling about\b",
            ),
            "promise": (
                r"\b(?:i|we) (?:will|shall|'ll)\b",
                r"\b(?:i'll|we'll)\b",
                r"\b(?:i am|i'm|we are|we're) going to\b",
                r"\byou will (?:see|get|receive|have|hear)\b",
                r"\bwithin " + _NUMBER + r" (?:working |business )?(?:minutes|hours|days|weeks)\b",
                r"\bshould be (?:fixed|done|sorted|back|resolved)\b",
            ),
            "amount": (
                _NUMBER + r" (?:euros?|dollars?|pounds?|cents?|percent)\b",
                r"[€$£]\s?\d",
                r"\b\d+(?:[.,]\d+)?\s?(?:eur|usd|gbp|%)",
            ),
            "date": (
                r"\b(?:" + _WEEKDAYS + r"|" + _MONTHS + r")\b",
                r"\b(?:today|tomorrow|tonight|yesterday|next week|next month"
                r"|end of the (?:day|week|month))\b",
                _NUMBER + r" (?:to " + _NUMBER + r" )?(?:working |business )?(?:days|weeks|months|hours)\b",
                r"\b\d{1,2}[/-]\d{1,2}(?:[/-]\d{2,4})?\b",
                r"\b" + _NUMBER + r" ?o ?'? ?clock\b",
            ),
            "outcome": (
                r"\b(?:refund|credit|replacement|technician|engineer)s? (?:was|is|has been)"
                r" (?:approved|processed|issued|sent|booked|added)\b",
                r"\b(?:resolved|sorted|fixed|cancelled|canceled|approved|credited|refunded|booked)\b",
                r"\bthat (?:works?|is fair|is fine|helps)\b",
                r"\b(?:i will|i'll) (?:refund|credit|add|send|cancel|book)\b",
            ),
        }
    )
    # Greetings and goodbyes: in every call alike, so never key whatever they mention ("today").
    formulas: tuple[str, ...] = (
        r"\bhow (?:can|may) i help\b",
        r"\bthank you for calling\b",
        r"\banything else\b",
        r"\b(?:goodbye|bye)\b",
        r"\bhave a (?:nice|good|great) day\b",
        r"\b(?:my name is|you are speaking with|you're speaking with)\b",
    )
    # Customers say why they call in their first words: without a reason cue, the customer's first
    # sentence is taken for it.
    first_customer_sentence_is_reason: bool = True
    # Who may say each kind; a kind left out here may be said by anyone.
    speakers: dict[KeyKind, Role] = field(default_factory=lambda: {"reason": "customer", "promise": "agent"})

    def __post_init__(self) -> None:
        if self.max_lines < 1:
            raise ValueError("a summary needs room for one line at least")
        if not 0 < self.damping < 1:
            raise ValueError("TextRank's damping lies between 0 and 1")
        if not 0 < self.outcome_tail <= 1:
            raise ValueError("the outcome's share of the call lies in (0, 1]")
        unknown = set(self.cues) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown kind(s) of key sentence: {', '.join(sorted(unknown))}")


@dataclass(frozen=True)
class SummaryLine:
    speaker: str  # the transcript's label
    role: Role | None
    start: float
    end: float
    text: str
    kinds: tuple[KeyKind, ...]  # what made it key; empty when centrality alone did
    score: float


@dataclass(frozen=True)
class _Sentence:
    speaker: str
    role: Role | None
    start: float
    end: float
    text: str


def summarize(transcript: Transcript, parameters: SummaryParameters | None = None) -> list[SummaryLine]:
    """The call's key sentences in call order; empty for a call with nothing said."""
    parameters = parameters or SummaryParameters()
    role_of = {speaker.label: speaker.role for speaker in transcript.speakers}
    sentences = [
        s
        for u in transcript.utterances
        if role_of.get(u.speaker) != "ivr"  # recorded prompts say the same in every call
        for s in _sentences(u, role_of.get(u.speaker))
        if len(s.text.split()) >= parameters.min_words
        and not any(re.search(f, _plain(s.text)) for f in parameters.formulas)
    ]
    if not sentences:
        return []
    centrality = _textrank([s.text for s in sentences], parameters)
    speech_end = max(s.end for s in sentences)
    speech_start = min(s.start for s in sentences)
    tail_from = speech_end - parameters.outcome_tail * (speech_end - speech_start)
    kinds = [_kinds(s, parameters, tail_from) for s in sentences]
    if parameters.first_customer_sentence_is_reason and not any("reason" in k for k in kinds):
        first = next((i for i, s in enumerate(sentences) if s.role == "customer"), None)
        if first is not None:
            kinds[first] = ("reason", *kinds[first])
    scores = [c + parameters.cue_weight * len(k) for c, k in zip(centrality, kinds, strict=True)]
    chosen: list[int] = []
    for kind in KINDS:  # the best sentence of each kind first, the reason first of all
        having = [i for i, k in enumerate(kinds) if kind in k and i not in chosen]
        if having and len(chosen) < parameters.max_lines:
            # The reason is told early: of equal sentences, the first; the outcome, the last.
            chosen.append(max(having, key=lambda i: (scores[i], -i if kind == "reason" else i)))
    for i in sorted(range(len(sentences)), key=lambda i: -scores[i]):
        if len(chosen) >= parameters.max_lines:
            break
        if i not in chosen and (kinds[i] or scores[i] >= parameters.min_centrality):
            chosen.append(i)
    return [
        SummaryLine(
            speaker=sentences[i].speaker,
            role=sentences[i].role,
            start=sentences[i].start,
            end=sentences[i].end,
            text=sentences[i].text,
            kinds=kinds[i],
            score=round(scores[i], 4),
        )
        for i in sorted(chosen)
    ]


def _sentences(utterance: Utterance, role: Role | None) -> list[_Sentence]:
    """An utterance cut after each word that ends a sentence, each piece timed by its words."""
    if not utterance.words:
        return [_Sentence(utterance.speaker, role, utterance.start, utterance.end, utterance.text.strip())]
    found: list[_Sentence] = []
    piece: list[tuple[float, float, str]] = []
    for word in utterance.words:
        piece.append((word.start, word.end, word.text))
        if word.text.rstrip().endswith((".", "?", "!")):
            found.append(_piece(utterance.speaker, role, piece))
            piece = []
    if piece:
        found.append(_piece(utterance.speaker, role, piece))
    return found


def _piece(speaker: str, role: Role | None, words: Sequence[tuple[float, float, str]]) -> _Sentence:
    text = re.sub(r"\s+", " ", "".join(text if text.startswith(" ") else f" {text}" for _, _, text in words))
    return _Sentence(speaker, role, words[0][0], words[-1][1], text.strip())


def _kinds(sentence: _Sentence, parameters: SummaryParameters, tail_from: float) -> tuple[KeyKind, ...]:
    text = _plain(sentence.text)
    found: list[KeyKind] = []
    for kind in KINDS:
        speaker = parameters.speakers.get(kind)
        if speaker is not None and sentence.role not in (speaker, None):
            continue
        if kind == "outcome" and (sentence.start < tail_from or sentence.text.endswith("?")):
            continue  # an outcome is told at the end, not asked
        if any(re.search(cue, text) for cue in parameters.cues.get(kind, ())):
            found.append(kind)
    return tuple(found)


def _plain(text: str) -> str:
    return text.lower().replace("\u2019", "'")


def _textrank(texts: list[str], parameters: SummaryParameters) -> list[float]:
    """Each sentence's PageRank in the graph of cosine similarities, scaled so the most central is 1."""
    try:
        vectors = TfidfVectorizer(stop_words="english").fit_transform(texts)
    except ValueError:  # nothing but stop words: no sentence is more central than another
        return [0.0] * len(texts)
    similarity = (vectors @ vectors.T).toarray()
    np.fill_diagonal(similarity, 0.0)
    totals = similarity.sum(axis=1, keepdims=True)
    count = len(texts)
    # A sentence like no other links to every one alike, so the walk never stops there.
    transition = np.where(totals > 0, similarity / np.where(totals > 0, totals, 1.0), 1.0 / count)
    rank = np.full(count, 1.0 / count)
    for _ in range(parameters.iterations):
        following = (1 - parameters.damping) / count + parameters.damping * (transition.T @ rank)
        done = np.abs(following - rank).sum() < parameters.tolerance
        rank = following
        if done:
            break
    top = float(rank.max())
    return [float(r / top) if top > 0 else 0.0 for r in rank]
