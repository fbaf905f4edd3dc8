"""Scoring as the field does it (see shared/eval/README.md): WER with jiwer, DER with pyannote.metrics.

WER: lower-cased, punctuation removed. DER: no collar, overlap scored. Word attribution: for each
reference utterance, the share of hypothesis words inside it given to the speaker that the optimal
DER mapping pairs with the reference speaker.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import jiwer
from pyannote.core import Annotation, Segment
from pyannote.metrics.diarization import DiarizationErrorRate

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


def normalize_text(text: str) -> str:
    return _NORMALIZE(text)


def word_error_rate(reference: str, hypothesis: str) -> float:
    return jiwer.wer(normalize_text(reference), normalize_text(hypothesis) or "")


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
    """Who spoke when, as the product shows it: the span of each utterance."""
    annotation = Annotation(uri=uri)
    for index, utterance in enumerate(transcript.utterances):
        if utterance.end > utterance.start:
            annotation[Segment(utterance.start, utterance.end), index] = utterance.speaker
    return annotation


def score_diarization(reference: Annotation, hypothesis: Annotation) -> DiarizationScore:
    metric = DiarizationErrorRate(collar=0.0, skip_overlap=False)
    parts = metric(reference, hypothesis, detailed=True)
    total = parts["total"] or 1.0
    return DiarizationScore(
        der=parts["diarization error rate"],
        missed=parts["missed detection"] / total,
        false_alarm=parts["false alarm"] / total,
        confusion=parts["confusion"] / total,
    )


def word_attribution_accuracy(
    reference: Annotation, references: Sequence[ReferenceUtterance], transcript: Transcript
) -> float:
    mapping = DiarizationErrorRate().optimal_mapping(
        reference, hypothesis_annotation(transcript, reference.uri)
    )
    words = [w for u in transcript.utterances for w in u.words]
    right = total = 0
    for ref in references:
        inside = [w for w in words if ref.start <= (w.start + w.end) / 2 <= ref.end]
        total += len(inside)
        right += sum(1 for w in inside if mapping.get(w.speaker) == ref.speaker)
    return right / total if total else 0.0
