"""Scoring as the field does it (see shared/eval/README.md): WER with jiwer, DER with pyannote.metrics.

WER: lower-cased, punctuation removed. DER: no collar, overlap scored. Word attribution: for each
reference utterance, the share of hypothesis words inside it given to the speaker that the optimal
DER mapping pairs with the reference speaker. Word timing: how far the first and last word of each
reference utterance lie from its boundaries (item 6: good enough to seek to and to mute).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import jiwer
import numpy as np
from pyannote.core import Annotation, Segment
from pyannote.metrics.diarization import DiarizationErrorRate

from transcribe.timeline import who_spoke_when
from transcribe.types import Transcript

_NORMALIZE = jiwer.Compose(
    [jiwer.ToLowerCase(), jiwer.RemovePunctuation(), jiwer.RemoveMultipleSpaces(), jiwer.Strip()]
)


@dataclass(frozen=True)
class ReferenceUtterance:
    speaker: str
    start: float
    end: float
    text: str


@dataclass(frozen=True)
class DiarizationScore:
    der: float
    missed: float  # each as a share of reference speech
    false_alarm: float
    confusion: float


@dataclass(frozen=True)
class Share:
    part: int
    whole: int

    @property
    def value(self) -> float | None:
        return self.part / self.whole if self.whole else None


def normalize_text(text: str) -> str:
    return _NORMALIZE(text)


def word_error_rate(references: Sequence[str], hypotheses: Sequence[str]) -> float:
    """Corpus WER: errors over all reference words (one pair for a file, all pairs for a folder)."""
    return jiwer.wer([normalize_text(r) for r in references], [normalize_text(h) or "" for h in hypotheses])


def read_rttm(path: Path) -> Annotation:
    annotation = Annotation(uri=path.stem)
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) >= 8 and parts[0] == "SPEAKER":
            start, duration = float(parts[3]), float(parts[4])
            annotation[Segment(start, start + duration), len(annotation)] = parts[7]
    return annotation


def read_stm(path: Path) -> list[ReferenceUtterance]:
    utterances = []
    for line in path.read_text().splitlines():
        parts = line.split(maxsplit=5)
        if len(parts) >= 5 and not line.startswith(";;"):
            text = parts[5] if len(parts) > 5 else ""
            utterances.append(ReferenceUtterance(parts[2], float(parts[3]), float(parts[4]), text))
    return utterances


def hypothesis_annotation(transcript: Transcript, uri: str) -> Annotation:
    """Who spoke when, as the product exports it (``earshot export --format rttm``)."""
    annotation = Annotation(uri=uri)
    for index, turn in enumerate(who_spoke_when(transcript)):
        if turn.end > turn.start:
            annotation[Segment(turn.start, turn.end), index] = turn.speaker
    return annotation


def score_diarization(pairs: Sequence[tuple[Annotation, Annotation]]) -> DiarizationScore:
    """DER over (reference, hypothesis) pairs: one file, or a whole folder with each error summed
    over all files (as pyannote.metrics accumulates), not an average of per-file rates."""
    metric = DiarizationErrorRate(collar=0.0, skip_overlap=False)
    for reference, hypothesis in pairs:
        metric(reference, hypothesis)
    parts = metric.accumulated_
    total = parts["total"] or 1.0
    return DiarizationScore(
        der=(parts["missed detection"] + parts["false alarm"] + parts["confusion"]) / total,
        missed=parts["missed detection"] / total,
        false_alarm=parts["false alarm"] / total,
        confusion=parts["confusion"] / total,
    )


def word_attribution(
    reference: Annotation, references: Sequence[ReferenceUtterance], transcript: Transcript
) -> Share:
    """Hypothesis words inside reference utterances, and how many of them went to the right speaker."""
    mapping = DiarizationErrorRate().optimal_mapping(
        reference, hypothesis_annotation(transcript, reference.uri)
    )
    names = rttm_names(reference, references)
    words = [w for u in transcript.utterances for w in u.words]
    right = total = 0
    for ref in references:
        inside = [w for w in words if ref.start <= (w.start + w.end) / 2 <= ref.end]
        total += len(inside)
        right += sum(1 for w in inside if mapping.get(w.speaker) == names[ref.speaker])
    return Share(right, total)


def rttm_names(reference: Annotation, references: Sequence[ReferenceUtterance]) -> dict[str, str]:
    """The RTTM label of each STM speaker, by the time they share: the two files may name the same
    person differently (the pyannote sample calls Diane "speaker90" in its RTTM)."""
    shared: dict[str, dict[str, float]] = {}
    for ref in references:
        talk = shared.setdefault(ref.speaker, {})
        for segment, _, label in reference.crop(Segment(ref.start, ref.end)).itertracks(yield_label=True):
            talk[label] = talk.get(label, 0.0) + segment.duration
    return {name: max(talk, key=talk.__getitem__) if talk else name for name, talk in shared.items()}


def word_timing_errors(
    references: Sequence[ReferenceUtterance], transcript: Transcript
) -> list[tuple[float, float]]:
    """(|first word start - start|, |last word end - end|) in seconds for each reference utterance
    that hypothesis words fall in, each word going to the reference utterance it overlaps most."""
    matched: dict[int, list[tuple[float, float]]] = {}
    for word in (w for u in transcript.utterances for w in u.words):
        overlaps = [min(word.end, r.end) - max(word.start, r.start) for r in references]
        best = int(np.argmax(overlaps)) if overlaps else -1
        if best >= 0 and overlaps[best] >= 0:  # a zero-length word inside counts
            matched.setdefault(best, []).append((word.start, word.end))
    return [
        (
            abs(min(start for start, _ in spans) - references[i].start),
            abs(max(end for _, end in spans) - references[i].end),
        )
        for i, spans in sorted(matched.items())
    ]
