"""Is a channel's opening in its party's voice? The evidence ``transcribe.ivr_voice`` weighs.

    .venv/bin/python -m bench.ivr_voice [FOLDER ...]

For every speaker alone in the recordings of the folders (default ``shared/eval`` and
``sample_audio``; RTTM speakers or one party per channel, as ``bench.voices_alone`` finds them),
takes an opening of just enough units of speech (``bench.channel_voices.units``, standing in for
utterances) to hold the voiced seconds ``transcribe.ivr_voice`` needs, and prints the cosine of its
voiceprint against the rest of that speaker (the same voice) and against the rest of each other
speaker of the recording (another voice); each side is the mean of its units' voiceprints, as the
stage weighs utterances. The line
``another_voice`` there should lie above every other voice and below every same voice.
"""

from __future__ import annotations

from itertools import accumulate

import numpy as np

from bench.channel_voices import prints_of
from bench.voices_alone import recordings_alone
from transcribe.ivr_voice import IvrVoiceParams
from transcribe.voiceprints import Voiceprint

_PARAMS = IvrVoiceParams()
ANOTHER_VOICE, MIN_AFTER, MIN_OPENING = _PARAMS.another_voice, _PARAMS.min_after, _PARAMS.min_opening


def opening_and_rest(samples: np.ndarray) -> tuple[Voiceprint, Voiceprint] | None:
    """The voiceprint of the shortest opening with ``min_opening`` voiced seconds, and of the rest."""
    _, prints = prints_of(samples)
    opening_of = list(accumulate(prints))
    for count, opening in enumerate(opening_of[:-1], start=1):
        if opening.seconds >= MIN_OPENING:
            rest = sum(prints[count + 1 :], prints[count])
            return (opening, rest) if rest.seconds >= MIN_AFTER else None
    return None


def main() -> None:
    same: list[float] = []
    other: list[float] = []
    print(f"{'recording: opening of':<44} {'against the rest of':<24} {'cosine':>7}")
    for path, _, alone in recordings_alone(__doc__):
        parts = {name: opening_and_rest(samples) for name, samples in alone.items()}
        judged = {name: pair for name, pair in parts.items() if pair is not None}
        for name, (opening, _) in judged.items():
            for against, (_, rest) in judged.items():
                cosine = opening.similarity(rest)
                (same if against == name else other).append(cosine)
                verdict = "another voice" if cosine < ANOTHER_VOICE else "same voice"
                wrong = "  <- wrong" if (verdict == "same voice") != (against == name) else ""
                print(f"{path.stem + ': ' + name:<44} {against:<24} {cosine:>7.3f}  {verdict}{wrong}")
    if same and other:
        print(
            f"\nsame voice: {len(same)}, lowest {min(same):.3f}; another voice: {len(other)}, highest "
            f"{max(other):.3f}; line at {ANOTHER_VOICE}: {sum(c < ANOTHER_VOICE for c in same)} same "
            f"voices and {sum(c >= ANOTHER_VOICE for c in other)} other voices on the wrong side"
        )


if __name__ == "__main__":
    main()
