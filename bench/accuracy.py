"""Accuracy benchmark: WER, DER (missed / false alarm / confusion), word attribution, real-time factor.

    .venv/bin/python -m bench.accuracy [FOLDER] [--model tiny.en] [--diarization auto] [--rate 8000]

FOLDER holds audio files with references beside them, by stem: ``<stem>.rttm`` (who spoke when),
``<stem>.stm`` (utterances with speaker and text), ``<stem>.txt`` (text only) or
``<stem>.ch<N>.txt`` (text of one channel). Columns: WER, DER with missed / false alarm /
confusion (of the speaker timeline that the RTTM export holds), word attribution, median word
timing error at utterance starts (t0) and ends (t1) against the STM, real-time factor; the total
row sums errors over all files. ``--baseline naive`` also runs one speaker per Whisper segment on
the same files, for comparison. ``--rate 8000`` hears every file as a phone line would carry it:
resampled to 8 kHz and back before it is transcribed, as an 8 kHz recording is. The two
text-only files of ``shared/eval`` keep their references in that folder's README; they are built
in here so it runs on that folder as is.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import soxr
from pyannote.core import Annotation

from bench.scoring import (
    Share,
    hypothesis_annotation,
    read_rttm,
    read_stm,
    score_diarization,
    word_attribution,
    word_error_rate,
    word_timing_errors,
)
from transcribe import audio, pipeline
from transcribe.asr import recognize
from transcribe.attribution import attribute_segments
from transcribe.models import load_whisper
from transcribe.repeats import collapse_repeats
from transcribe.types import SAMPLE_RATE, Audio, Speaker, TranscribeOptions, Transcript, no_progress

DEFAULT_FOLDER = Path(__file__).resolve().parents[2] / "shared" / "eval"
AUDIO_SUFFIXES = {".wav", ".flac", ".mp3", ".ogg", ".opus"}
SHARED_EVAL_TEXTS = {
    "jfk.txt": "And so my fellow Americans, ask not what your country can do for you, "
    "ask what you can do for your country.",
    "stereo_2spk.ch0.txt": "He began a confused complaint against the wizard, "
    "who had vanished behind the curtain on the left.",
    "stereo_2spk.ch1.txt": "The horizon seems extremely distant.",
}

Transcribe = Callable[[Audio, TranscribeOptions, Path], Transcript]


@dataclass(frozen=True)
class FileResult:
    name: str
    duration: float
    seconds: float
    text: tuple[str, str] | None  # (reference, hypothesis) for WER
    diarization: tuple[Annotation, Annotation] | None  # (reference, hypothesis) for DER
    attribution: Share | None
    timing: list[tuple[float, float]]  # (start, end) error of each reference utterance heard
    channel_wer: dict[int, float]
    speakers: int


def transcribe_ours(recording: Audio, options: TranscribeOptions, cache_dir: Path) -> Transcript:
    return pipeline.run(recording, options, cache_dir=cache_dir)


def transcribe_naive(recording: Audio, options: TranscribeOptions, cache_dir: Path) -> Transcript:
    """The baseline: the mixdown's Whisper segments, each given whole to the speaker whose turn it
    overlaps most, with turns from the embedded diarizer that does not see the words."""
    from transcribe.diarization import mono

    model = load_whisper(options.model, cache_dir, options.device, options.compute_type)
    samples = recording.mono()
    language, segments = recognize(model, samples, options, no_progress)
    segments = collapse_repeats(segments)
    utterances = attribute_segments(segments, mono.diarize(samples, options, no_progress))
    return Transcript(
        language=language,
        duration=recording.duration,
        speakers=tuple(Speaker(label) for label in dict.fromkeys(u.speaker for u in utterances)),
        utterances=utterances,
        options=options,
        models={"asr": options.model, "diarization": "embedded, whole segments"},
    )


def reference_text(folder: Path, name: str) -> str | None:
    path = folder / name
    if path.exists():
        return path.read_text()
    return SHARED_EVAL_TEXTS.get(name) if folder.resolve() == DEFAULT_FOLDER.resolve() else None


def at_rate(recording: Audio, rate: int) -> Audio:
    """The recording as if it had been captured at ``rate`` Hz (its band cut to half of that),
    at 16 kHz again as ``audio.decode`` gives every file."""
    there = soxr.resample(recording.samples.T, SAMPLE_RATE, rate)
    back = soxr.resample(there, rate, SAMPLE_RATE).T[:, : recording.samples.shape[1]]
    return Audio(np.ascontiguousarray(back, dtype=np.float32), replace(recording.source, sample_rate=rate))


def evaluate_file(
    path: Path, transcribe: Transcribe, options: TranscribeOptions, cache_dir: Path, rate: int | None = None
) -> FileResult:
    recording = audio.decode(path)
    recording = at_rate(recording, rate) if rate else recording
    began = time.perf_counter()
    transcript = transcribe(recording, options, cache_dir)
    seconds = time.perf_counter() - began
    hypothesis_text = " ".join(u.text for u in transcript.utterances)
    rttm, stm = path.with_suffix(".rttm"), path.with_suffix(".stm")
    reference = read_rttm(rttm) if rttm.exists() else None
    references = read_stm(stm) if stm.exists() else []
    text = (
        " ".join(r.text for r in references)
        if references
        else reference_text(path.parent, f"{path.stem}.txt")
    )
    return FileResult(
        name=path.name,
        duration=transcript.duration,
        seconds=seconds,
        text=(text, hypothesis_text) if text else None,
        diarization=(reference, hypothesis_annotation(transcript, path.stem)) if reference else None,
        attribution=word_attribution(reference, references, transcript) if reference and references else None,
        timing=word_timing_errors(references, transcript),
        channel_wer=_channel_wers(path, transcript),
        speakers=len(transcript.speakers),
    )


def _channel_wers(path: Path, transcript: Transcript) -> dict[int, float]:
    scores = {}
    for speaker in transcript.speakers:
        if speaker.channel is None:
            continue
        text = reference_text(path.parent, f"{path.stem}.ch{speaker.channel}.txt")
        if text:
            said = " ".join(u.text for u in transcript.utterances if u.speaker == speaker.label)
            scores[speaker.channel] = word_error_rate([text], [said])
    return scores


def _percent(value: float | None) -> str:
    return "   -  " if value is None else f"{100 * value:5.1f}%"


def _milliseconds(errors: Sequence[float]) -> str:
    return f"{1000 * float(np.median(errors)):5.0f}" if errors else "   - "


def _row(name: str, results: Sequence[FileResult]) -> str:
    """One line of the table: a file, or all of them (errors summed over files, not averaged)."""
    duration = sum(r.duration for r in results)
    texts = [r.text for r in results if r.text]
    pairs = [r.diarization for r in results if r.diarization]
    diarization = score_diarization(pairs) if pairs else None
    shares = [r.attribution for r in results if r.attribution]
    attribution = Share(sum(s.part for s in shares), sum(s.whole for s in shares)).value if shares else None
    timing = [error for r in results for error in r.timing]
    channels = ", ".join(
        f"ch{c} {_percent(w).strip()}"
        for r in results[:1]
        if len(results) == 1
        for c, w in sorted(r.channel_wer.items())
    )
    return (
        f"{name:<24} {duration:6.1f} {sum(r.seconds for r in results) / duration:6.3f} "
        f"{_percent(word_error_rate(*zip(*texts, strict=True)) if texts else None):>7} "
        f"{_percent(diarization.der if diarization else None):>7} "
        f"{_percent(diarization.missed if diarization else None):>7} "
        f"{_percent(diarization.false_alarm if diarization else None):>7} "
        f"{_percent(diarization.confusion if diarization else None):>7} {_percent(attribution):>7} "
        f"{_milliseconds([s for s, _ in timing]):>6} {_milliseconds([e for _, e in timing]):>6} "
        f"{results[0].speakers if len(results) == 1 else '':>4}  {channels}"
    )


def print_table(results: list[FileResult], title: str) -> None:
    print(f"\n{title}")
    print(
        f"{'file':<24} {'dur s':>6} {'RTF':>6} {'WER':>7} {'DER':>7} {'miss':>7} {'FA':>7} {'conf':>7} "
        f"{'attrib':>7} {'t0 ms':>6} {'t1 ms':>6} {'spk':>4}  per-channel WER"
    )
    for result in results:
        print(_row(result.name, [result]))
    print(_row("total", results))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("folder", nargs="?", type=Path, default=DEFAULT_FOLDER)
    parser.add_argument("--model", default="tiny.en")
    parser.add_argument("--diarization", default="auto")
    parser.add_argument("--num-speakers", type=int)
    parser.add_argument("--cache-dir", type=Path, default=Path(".earshot/models"))
    parser.add_argument(
        "--rate", type=int, help="hear every file as if recorded at this rate (8000: a phone line)"
    )
    parser.add_argument(
        "--baseline", choices=["naive"], help="also run the naive baseline (one speaker per Whisper segment)"
    )
    args = parser.parse_args()
    options = TranscribeOptions(
        model=args.model, diarization=args.diarization, num_speakers=args.num_speakers
    )
    files = sorted(p for p in args.folder.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES)
    # Warm up once so model loading and first-call compilation are not billed to the first file.
    transcribe_ours(audio.decode(files[0]), options, args.cache_dir)
    runs: list[tuple[str, Transcribe]] = [("ours", transcribe_ours)]
    if args.baseline:
        runs.append(("naive baseline: one speaker per Whisper segment", transcribe_naive))
    for label, transcribe in runs:
        results = [evaluate_file(path, transcribe, options, args.cache_dir, args.rate) for path in files]
        heard = f", heard at {args.rate} Hz" if args.rate else ""
        print_table(results, f"{label} | model {args.model}, diarization {args.diarization}{heard}")


if __name__ == "__main__":
    main()
