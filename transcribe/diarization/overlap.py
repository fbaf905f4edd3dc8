"""Overlapped speech in a mixdown: where two people talk at once, both are speaking.

The embedded diarizer gives every moment one speaker, so overtalk, backchannels ("mm-hm" under the
other party) and a quick reply that starts before the other has finished count as missed speech
of one party. pyannote's segmentation model (``segmentation_model``) hears how many people talk in
each 17 ms frame; where it hears two, the second one is added to the turns: the speaker whose
turn meets the overlap, or, inside one speaker's turn, the nearest other speaker in time (most
overtalk is a reply starting early or a backchannel, so that is who it is; Bullock et al., 2020).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from transcribe.diarization import segmentation_model
from transcribe.speech import Span, union
from transcribe.types import SAMPLE_RATE, ProgressHook, SpeakerTurn, no_progress

# Chunks of 10 s, this far apart, so each frame is heard in four. pyannote steps 1 s; on the eval
# call (16 and 8 kHz) and four synthetic calls, steps of 1, 2.5 and 5 s gave a total DER of 10.3,
# 10.0 and 10.2% (tiny.en), and the model costs 0.015 x real time at 2.5 s on two CPU cores.
_STEP_SECONDS = 2.5
_BATCH_CHUNKS = 16
# A frame is overlap when the chunks that hear it give two speakers this probability on average.
_OVERLAP_PROBABILITY = 0.5
# Shorter runs of overlap are noise at the edges of turns.
_MIN_OVERLAP = 0.1


def with_overtalk(
    samples: np.ndarray, turns: Sequence[SpeakerTurn], device: str = "cpu", hook: ProgressHook = no_progress
) -> tuple[SpeakerTurn, ...]:
    """The turns of a 16 kHz mono signal with the second speaker of each overlap added."""
    if len({turn.speaker for turn in turns}) < 2:
        return tuple(turns)
    return with_second_speakers(turns, overlapped_speech(samples, device, hook))


def overlapped_speech(
    samples: np.ndarray, device: str = "cpu", hook: ProgressHook = no_progress
) -> list[Span]:
    """Spans of a 16 kHz mono signal where two people talk at once; progress as the step "overlap"."""
    chunk = int(segmentation_model.CHUNK_SECONDS * SAMPLE_RATE)
    step = int(_STEP_SECONDS * SAMPLE_RATE)
    starts = list(range(0, max(len(samples) - chunk, 0) + 1, step))
    if starts[-1] + chunk < len(samples):
        starts.append(len(samples) - chunk)  # the last chunk flush with the end
    frame_step = segmentation_model.PyanNet.FRAME_STEP
    frames = int(len(samples) / SAMPLE_RATE / frame_step) + 1
    total, heard = np.zeros(frames), np.zeros(frames)
    two = torch.tensor([count == 2 for count in segmentation_model.CLASS_SPEAKERS], dtype=torch.float32)
    model = segmentation_model.load(device)
    hook("overlap", completed=0, total=len(starts))
    with torch.inference_mode():
        for first in range(0, len(starts), _BATCH_CHUNKS):
            batch = starts[first : first + _BATCH_CHUNKS]
            chunks = np.stack([_padded(samples[start : start + chunk], chunk) for start in batch])
            log_probabilities = model(torch.from_numpy(chunks)[:, None, :].to(device))
            overlap = (log_probabilities.exp() @ two.to(log_probabilities.device)).cpu().numpy()
            for start, probabilities in zip(batch, overlap, strict=True):
                offset = int(round(start / SAMPLE_RATE / frame_step))
                kept = probabilities[: frames - offset]
                total[offset : offset + len(kept)] += kept
                heard[offset : offset + len(kept)] += 1
            hook("overlap", completed=first + len(batch), total=len(starts))
    mean = total / np.maximum(heard, 1)
    centre = segmentation_model.PyanNet.FRAME_DURATION / 2
    return [
        (start * frame_step + centre, end * frame_step + centre)
        for start, end in _runs(mean > _OVERLAP_PROBABILITY)
        if (end - start) * frame_step >= _MIN_OVERLAP
    ]


def with_second_speakers(turns: Sequence[SpeakerTurn], overlaps: Sequence[Span]) -> tuple[SpeakerTurn, ...]:
    """``turns`` with the second speaker of each overlap added over it: every speaker whose turn
    meets the overlap, or when only one does, the speaker of the nearest turn of someone else.
    Same-speaker turns that then touch are joined."""
    added: list[SpeakerTurn] = []
    for start, end in overlaps:
        meeting = {turn.speaker for turn in turns if turn.start < end and turn.end > start}
        others = [(_gap(turn, start, end), turn.speaker) for turn in turns if turn.speaker not in meeting]
        if len(meeting) == 1 and others:
            meeting.add(min(others)[1])
        if len(meeting) >= 2:
            added.extend(SpeakerTurn(start, end, speaker) for speaker in sorted(meeting))
    return _joined([*turns, *added])


def _padded(samples: np.ndarray, length: int) -> np.ndarray:
    return np.pad(samples.astype(np.float32), (0, length - len(samples)))


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(first, stop) index ranges where ``mask`` holds."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def _gap(turn: SpeakerTurn, start: float, end: float) -> float:
    return max(turn.start - end, start - turn.end, 0.0)


def _joined(turns: Sequence[SpeakerTurn]) -> tuple[SpeakerTurn, ...]:
    spans: dict[str, list[Span]] = {}
    for turn in turns:
        spans.setdefault(turn.speaker, []).append((turn.start, turn.end))
    joined = (SpeakerTurn(a, b, speaker) for speaker, own in spans.items() for a, b in union(own))
    return tuple(sorted(joined, key=lambda turn: (turn.start, turn.end)))
