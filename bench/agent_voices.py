"""How alike a voice is to its own voiceprint and to other voices: the evidence behind
``VoiceMatchParameters.same_voice`` (``transcribe.voiceprints``).

    .venv/bin/python -m bench.agent_voices [FOLDER ...]

For every speaker alone in the recordings of the folders (default ``shared/eval`` and
``sample_audio``; RTTM speakers or one party per channel, as ``bench.voices_alone`` finds them), a
voiceprint of the first half of their speech is enrolled and held against the second half of
every speaker of that recording: the same voice, or another. The stereo demo calls share flite
voices (the agent "rms" takes both; "awb" is a customer on one and the agent of the mono call), so
their channels are also held against each other across calls, as enrolment on one call and
recognition on the next do. The line should lie above every other voice and below every same one.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np

from bench.voices_alone import SAMPLE_AUDIO, recordings_alone
from transcribe.speech import speech_regions
from transcribe.types import SAMPLE_RATE, SpeakerTurn
from transcribe.voiceprints import VoiceMatchParameters, Voiceprint, speaker_voiceprint

# The flite voice on each channel of the stereo demo calls (sample_audio/make_samples.sh).
_DEMO_VOICES = {
    ("2024-05-06_double_charge", "channel 0"): "rms",
    ("2024-05-06_double_charge", "channel 1"): "slt",
    ("2024-05-13_outage_credit", "channel 0"): "rms",
    ("2024-05-13_outage_credit", "channel 1"): "awb",
}


def halves(samples: np.ndarray) -> tuple[Voiceprint, Voiceprint] | None:
    """Voiceprints of the first and second half of a voice's speech."""
    regions = speech_regions(samples)
    if not regions:
        return None
    middle = sum(end - start for start, end in regions) / 2
    turns, said = [], 0.0
    for start, end in regions:
        cut = min(end, max(start, start + middle - said))
        turns += [SpeakerTurn(start, cut, "first"), SpeakerTurn(cut, end, "second")]
        said += end - start
    first, second = (speaker_voiceprint(samples, turns, half) for half in ("first", "second"))
    return (first, second) if first is not None and second is not None else None


def main() -> None:
    line = VoiceMatchParameters().same_voice
    same: list[float] = []
    other: list[float] = []
    demo: dict[str, list[tuple[str, Voiceprint]]] = {}
    print(f"{'recording: enrolled from the first half of':<56} {'against the second half of':<26} cosine")
    for path, _, alone in recordings_alone(__doc__):
        parts = {name: halves(samples) for name, samples in alone.items() if len(samples) > SAMPLE_RATE}
        judged = {name: pair for name, pair in parts.items() if pair is not None}
        for name, (enrolled, _) in judged.items():
            voice = _DEMO_VOICES.get((path.stem, name))
            if voice is not None:
                demo.setdefault(voice, []).append((f"{path.stem}: {name}", enrolled))
            for against, (_, heard) in judged.items():
                cosine = enrolled.similarity(heard)
                (same if against == name else other).append(cosine)
                print(f"{path.stem + ': ' + name:<56} {against:<26} {cosine:.3f}")
    print("\nacross the stereo demo calls (first halves; flite voice in brackets):")
    prints = [(voice, where, vp) for voice, found in demo.items() for where, vp in found]
    for (voice_a, where_a, a), (voice_b, where_b, b) in combinations(prints, 2):
        if where_a.split(":")[0] == where_b.split(":")[0]:
            continue
        cosine = a.similarity(b)
        (same if voice_a == voice_b else other).append(cosine)
        print(f"{where_a} ({voice_a})  vs  {where_b} ({voice_b}): {cosine:.3f}")
    print(
        f"\nsame voice: {min(same):.3f} to {max(same):.3f} ({len(same)}); other voices: "
        f"{min(other):.3f} to {max(other):.3f} ({len(other)}); the line: {line}"
    )


if __name__ == "__main__":
    assert SAMPLE_AUDIO.is_dir()
    main()
