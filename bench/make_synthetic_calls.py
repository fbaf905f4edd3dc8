"""Synthetic phone calls with exact references, to check diarization beyond the one real eval call.

    .venv/bin/python -m bench.make_synthetic_calls OUT_FOLDER [--seed 0]

Writes ``<name>.wav`` (16 kHz mono, telephone band 300-3400 Hz, line noise), ``<name>.rttm`` and
``<name>.stm`` per call, the layout ``bench.accuracy`` reads. Voices are flite's and espeak-ng's
(Debian packages ``flite`` and ``espeak-ng``). Turns change with pauses, with overtalk (the next
speaker starts before the last one finished) and with short backchannels ("yeah", "okay") spoken
over the other party, as real calls do. TTS voices are far more self-consistent than people, so
these calls are a regression check, not a substitute for real recordings.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import butter, sosfilt

from transcribe.types import SAMPLE_RATE

# (engine, voice): flite's built-in voices and espeak-ng voice variants.
VOICES = {
    "slt": ("flite", "slt"),
    "kal": ("flite", "kal"),
    "awb": ("flite", "awb"),
    "rms": ("flite", "rms"),
    "f3": ("espeak-ng", "en-us+f3"),
    "m3": ("espeak-ng", "en-us+m3"),
    "nl_f": ("espeak-ng", "nl+f3"),  # Dutch, for bench.redaction's Dutch callers
    "nl_m": ("espeak-ng", "nl+m3"),
}

# Each call: its voices, in order of who speaks first, and the script as (voice index, line).
CALLS = {
    "syn_refund_2spk": (
        ("slt", "kal"),
        [
            (0, "Thank you for calling Earshot Telecom, this is Emma, how can I help you today?"),
            (1, "Hi, yes, I was charged twice for my last bill."),
            (0, "I'm sorry to hear that."),
            (0, "Can I have your account number please?"),
            (1, "Sure, it's four five seven, two two one, nine."),
            (0, "Thank you. I can see the double charge on the third of March."),
            (1, "Right."),
            (0, "I will refund the second payment, it takes three to five working days."),
            (1, "Okay, that's great, thanks a lot."),
            (0, "Is there anything else I can help you with?"),
            (1, "No, that was all. Goodbye."),
        ],
    ),
    "syn_samegender_2spk": (
        ("awb", "rms"),
        [
            (0, "Good morning, technical support, my name is Alan."),
            (1, "Morning. My internet keeps dropping every evening."),
            (0, "Have you tried restarting the router?"),
            (1, "Yes, twice."),
            (0, "Okay. Let me run a line test from here, it takes a minute."),
            (1, "No problem, I'll wait."),
            (0, "The test shows noise on the line, so I will book an engineer for Thursday."),
            (1, "Thursday works. Morning or afternoon?"),
            (0, "Between eight and one."),
            (1, "Perfect, thank you very much."),
        ],
    ),
    "syn_espeak_2spk": (
        ("f3", "kal"),
        [
            (0, "Hello, you are speaking with the billing team."),
            (1, "Hello, I would like to change my payment date."),
            (0, "Of course. Which day of the month would suit you?"),
            (1, "The twenty fifth, please, that is when I get paid."),
            (0, "Done. Your next payment will be taken on the twenty fifth of May."),
            (1, "Great."),
            (0, "You will receive a confirmation by e-mail within the hour."),
            (1, "Thanks, have a nice day."),
        ],
    ),
    "syn_transfer_3spk": (
        ("slt", "kal", "rms"),
        [
            (0, "Welcome to Earshot Telecom, sales department."),
            (1, "Hi, I want to cancel my contract."),
            (0, "I see. Cancellations are handled by our retention team."),
            (0, "Let me transfer you, please hold."),
            (2, "Hello, retention team, this is Mark speaking."),
            (1, "Hi Mark, I would like to cancel my contract please."),
            (2, "May I ask why you want to leave us?"),
            (1, "I found a cheaper offer elsewhere."),
            (2, "I can give you twenty percent off for the next year."),
            (1, "Okay, in that case I'll stay."),
        ],
    ),
}

BACKCHANNELS = ("yeah", "okay", "mm hmm", "right")


@dataclass(frozen=True)
class Turn:
    speaker: str
    start: float
    end: float
    text: str


def synthesize(voice: str, text: str, workdir: Path) -> np.ndarray:
    """One line of speech at 16 kHz, its leading and trailing silence trimmed."""
    engine, name = VOICES[voice]
    path = workdir / "line.wav"
    if engine == "flite":
        subprocess.run(["flite", "-voice", name, "-t", text, "-o", str(path)], check=True)
    else:
        subprocess.run(["espeak-ng", "-v", name, "-s", "165", "-w", str(path), text], check=True)
    samples, rate = sf.read(path, dtype="float32")
    if rate != SAMPLE_RATE:
        import soxr

        samples = soxr.resample(samples, rate, SAMPLE_RATE)
    loud = np.flatnonzero(np.abs(samples) > 0.02 * np.abs(samples).max())
    return samples[loud[0] : loud[-1] + 1] / max(1e-9, float(np.abs(samples).max()))


def make_call(
    voices: tuple[str, ...], script: list[tuple[int, str]], rng: np.random.Generator, workdir: Path
) -> tuple[np.ndarray, list[Turn]]:
    gains = rng.uniform(0.25, 0.6, len(voices))  # parties come through at different levels
    pieces: list[tuple[float, np.ndarray]] = []
    turns: list[Turn] = []
    cursor = 1.0
    previous = None
    for speaker, text in script:
        audio = synthesize(voices[speaker], text, workdir) * gains[speaker]
        if previous is None:
            start = cursor
        elif previous == speaker:
            start = cursor + rng.uniform(0.3, 0.8)  # a pause inside one party's turn
        else:
            start = cursor + rng.choice([rng.uniform(-0.4, -0.1), rng.uniform(0.1, 0.7)], p=[0.3, 0.7])
        pieces.append((start, audio))
        turns.append(Turn(f"speaker{speaker}", start, start + len(audio) / SAMPLE_RATE, text))
        last = turns[-1]
        long_reply = previous is not None and previous != speaker and len(audio) > 3 * SAMPLE_RATE
        if long_reply and previous is not None and rng.random() < 0.5:
            # The other party acknowledges in the middle of a long line.
            word = str(rng.choice(BACKCHANNELS))
            listener = previous
            back = synthesize(voices[listener], word, workdir) * gains[listener]
            at = start + rng.uniform(0.4, 0.6) * (last.end - start)
            pieces.append((at, back))
            turns.append(Turn(f"speaker{listener}", at, at + len(back) / SAMPLE_RATE, word))
        cursor, previous = last.end, speaker
    total = int((cursor + 1.0) * SAMPLE_RATE)
    mix = np.zeros(total, np.float32)
    for start, audio in pieces:
        at = int(start * SAMPLE_RATE)
        mix[at : at + len(audio)] += audio[: total - at]
    band = butter(6, [300, 3400], btype="bandpass", fs=SAMPLE_RATE, output="sos")
    mix = sosfilt(band, mix).astype(np.float32)
    noise = sosfilt(band, rng.standard_normal(total)).astype(np.float32)
    mix += noise * np.float32(np.sqrt(np.mean(mix**2)) / 10 ** (25 / 20) / np.sqrt(np.mean(noise**2)))
    return mix / max(1.0, float(np.abs(mix).max()) / 0.9), sorted(turns, key=lambda t: t.start)


def write_call(folder: Path, name: str, mix: np.ndarray, turns: list[Turn]) -> None:
    sf.write(folder / f"{name}.wav", mix, SAMPLE_RATE, subtype="PCM_16")
    (folder / f"{name}.rttm").write_text(
        "".join(
            f"SPEAKER {name} 1 {t.start:.3f} {t.end - t.start:.3f} <NA> <NA> {t.speaker} <NA> <NA>\n"
            for t in turns
        )
    )
    (folder / f"{name}.stm").write_text(
        "".join(f"{name} 1 {t.speaker} {t.start:.3f} {t.end:.3f} {t.text}\n" for t in turns)
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("folder", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    args.folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    with tempfile.TemporaryDirectory() as workdir:
        for name, (voices, script) in CALLS.items():
            mix, turns = make_call(voices, script, rng, Path(workdir))
            write_call(args.folder, name, mix, turns)
            print(f"{name}: {len(mix) / SAMPLE_RATE:.1f} s, {len(turns)} turns")


if __name__ == "__main__":
    main()
