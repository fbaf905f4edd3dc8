"""Does a channel change voice? The evidence ``transcribe.channel_voices`` weighs.

    .venv/bin/python -m bench.channel_voices [FOLDER ...]

For every speaker alone in the recordings of the folders (default ``shared/eval`` and
``sample_audio``; RTTM speakers or one party per channel, as ``bench.voices_alone`` finds them):

- one voice: the lowest change cosine anywhere in their speech, and whether a change is found
  (it should not be);
- a handover: the first ``_HANDOVER`` seconds of them, a pause, then the first ``_HANDOVER``
  seconds of each other speaker of the recording (two people on one real phone line, or two
  voices of one call): the change cosine where the voices meet, and whether exactly that one
  change is found.

Speech is cut into the units the product judges (at most ``MAX_PIECE`` seconds, at pauses) from
the VAD's regions, as no transcript is needed to compare voices.
"""

from __future__ import annotations

import numpy as np

from bench.voices_alone import recordings_alone
from transcribe.channel_voices import ChannelVoicesParams, change_cosine, voice_changes
from transcribe.speech import Span, speech_regions
from transcribe.types import SAMPLE_RATE
from transcribe.voiceprints import MAX_PIECE, Voiceprint, voiceprints

_HANDOVER = 30.0  # seconds of audio of each voice in a handover
_PAUSE = np.zeros(SAMPLE_RATE, dtype=np.float32)

ANOTHER_VOICE = ChannelVoicesParams().another_voice


def units(samples: np.ndarray) -> list[Span]:
    """The speech regions of ``samples``, each cut in equal parts of at most ``MAX_PIECE`` seconds."""
    spans: list[Span] = []
    for start, end in speech_regions(samples):
        edges = np.linspace(start, end, int(np.ceil((end - start) / MAX_PIECE)) + 1)
        spans.extend((float(a), float(b)) for a, b in zip(edges[:-1], edges[1:], strict=True))
    return spans


def prints_of(samples: np.ndarray) -> tuple[list[Span], list[Voiceprint]]:
    spans = units(samples)
    return spans, (voiceprints(samples, [[span] for span in spans]) if spans else [])


def main() -> None:
    same: list[float] = []
    handovers: list[float] = []
    wrong = 0
    for path, _, alone in recordings_alone(__doc__):
        for name, samples in alone.items():
            _, prints = prints_of(samples)
            judged = (change_cosine(prints, 0, at, len(prints)) for at in range(1, len(prints)))
            cosines = [cosine for cosine in judged if cosine is not None]
            if not cosines:
                continue
            changes = voice_changes(prints)
            wrong += bool(changes)
            same.append(min(cosines))
            verdict = f"{len(changes)} change(s)  <- wrong" if changes else "one voice"
            print(f"{path.stem + ': ' + name:<48} {'':<20} {min(cosines):>7.3f}  {verdict}")
        heads = {name: samples[: int(_HANDOVER * SAMPLE_RATE)] for name, samples in alone.items()}
        for first, head in heads.items():
            for then, other in heads.items():
                if then == first:
                    continue
                spans, prints = prints_of(np.concatenate([head, _PAUSE, other]))
                meet = next(
                    (i for i, (start, _) in enumerate(spans) if start >= len(head) / SAMPLE_RATE), None
                )
                cosine = None if meet is None else change_cosine(prints, 0, meet, len(prints))
                if meet is None or cosine is None:  # the second voice has too little speech
                    continue
                changes = voice_changes(prints)
                handovers.append(cosine)
                right = changes == [meet]
                wrong += not right
                verdict = "found" if right else f"changes at {changes}, not [{meet}]  <- wrong"
                print(f"{path.stem + ': ' + first:<48} {'then ' + then:<20} {cosine:>7.3f}  {verdict}")
    if same and handovers:
        print(
            f"\none voice: {len(same)}, lowest {min(same):.3f}; handovers: {len(handovers)}, highest "
            f"{max(handovers):.3f}; line at {ANOTHER_VOICE}; wrong: {wrong}"
        )


if __name__ == "__main__":
    main()
