"""Accuracy benchmark: WER, DER (missed / false alarm / confusion), word attribution, real-time factor.

    .venv/bin/python -m bench.accuracy [FOLDER] [--model tiny.en] [--diarization auto]

FOLDER holds audio files with references beside them, by stem: ``<stem>.rttm`` (who spoke when),
``<stem>.stm`` (utterances with speaker and text), ``<stem>.txt`` (text only) or
``<stem>.ch<N>.txt`` (text of one channel). The two text-only files of ``shared/eval`` keep their
references in that folder's README; they are built in here so it runs on that folder as is.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

from bench.scoring import (
    hypothesis_annotation,
    read_rttm,
    read_stm,
    score_diarization,
    word_attribution_accuracy,
    word_error_rate,
)
from transcribe import audio, pipeline
from transcribe.types import TranscribeOptions, Transcript

DEFAULT_FOLDER = Path(__file__).resolve().parents[2] / "shared" / "eval"
AUDIO_SUFFIXES = {".wav", ".flac", ".mp3", ".ogg", ".opus"}
SHARED_EVAL_TEXTS = {
    "jfk.txt": "And so my fellow Americans, ask not what your country can do for you, "
    "ask what you can do for your country.",
    "stereo_2spk.ch0.txt": "He began a confused complaint against the wizard, "
    "who had vanished behind the curtain on the left.",
    "stereo_2spk.ch1.txt": "The horizon seems extremely distant.",
}


@dataclass(frozen=True)
class FileResult:
    name: str
    duration: float
    seconds: float
    wer: float | None
    der: float | None
    missed: float | None
    false_alarm: float | None
    confusion: float | None
    attribution: float | None
    channel_wer: dict[int, float]
    speakers: int


def reference_text(folder: Path, name: str) -> str | None:
    path = folder / name
    if path.exists():
        return path.read_text()
    return SHARED_EVAL_TEXTS.get(name) if folder.resolve() == DEFAULT_FOLDER.resolve() else None


def evaluate_file(path: Path, options: TranscribeOptions, cache_dir: Path) -> FileResult:
    began = time.perf_counter()
    transcript = pipeline.run(audio.decode(path), options, cache_dir=cache_dir)
    seconds = time.perf_counter() - began
    hypothesis_text = " ".join(u.text for u in transcript.utterances)
    rttm, stm = path.with_suffix(".rttm"), path.with_suffix(".stm")
    reference = read_rttm(rttm) if rttm.exists() else None
    references = read_stm(stm) if stm.exists() else None
    text = (
        " ".join(r.text for r in references)
        if references
        else reference_text(path.parent, f"{path.stem}.txt")
    )
    diarization = (
        score_diarization(reference, hypothesis_annotation(transcript, path.stem)) if reference else None
    )
    return FileResult(
        name=path.name,
        duration=transcript.duration,
        seconds=seconds,
        wer=word_error_rate(text, hypothesis_text) if text else None,
        der=diarization.der if diarization else None,
        missed=diarization.missed if diarization else None,
        false_alarm=diarization.false_alarm if diarization else None,
        confusion=diarization.confusion if diarization else None,
        attribution=word_attribution_accuracy(reference, references, transcript)
        if reference and references
        else None,
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
            scores[speaker.channel] = word_error_rate(text, said)
    return scores


def _percent(value: float | None) -> str:
    return "   -  " if value is None else f"{100 * value:5.1f}%"


def print_table(results: list[FileResult], title: str) -> None:
    print(f"\n{title}")
    print(
        f"{'file':<24} {'dur s':>6} {'RTF':>6} {'WER':>7} {'DER':>7} {'miss':>7} {'FA':>7} {'conf':>7} "
        f"{'attrib':>7} {'spk':>4}  per-channel WER"
    )
    for r in results:
        channels = ", ".join(f"ch{c} {_percent(w).strip()}" for c, w in sorted(r.channel_wer.items()))
        print(
            f"{r.name:<24} {r.duration:6.1f} {r.seconds / r.duration:6.3f} {_percent(r.wer):>7} "
            f"{_percent(r.der):>7} {_percent(r.missed):>7} {_percent(r.false_alarm):>7} "
            f"{_percent(r.confusion):>7} {_percent(r.attribution):>7} {r.speakers:>4}  {channels}"
        )
    total_duration = sum(r.duration for r in results)
    print(f"{'total':<24} {total_duration:6.1f} {sum(r.seconds for r in results) / total_duration:6.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("folder", nargs="?", type=Path, default=DEFAULT_FOLDER)
    parser.add_argument("--model", default="tiny.en")
    parser.add_argument("--diarization", default="auto")
    parser.add_argument("--num-speakers", type=int)
    parser.add_argument("--cache-dir", type=Path, default=Path(".earshot/models"))
    args = parser.parse_args()
    options = TranscribeOptions(
        model=args.model, diarization=args.diarization, num_speakers=args.num_speakers
    )
    files = sorted(p for p in args.folder.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES)
    # Warm up once so model loading and first-call compilation are not billed to the first file.
    pipeline.run(audio.decode(files[0]), options, cache_dir=args.cache_dir)
    results = [evaluate_file(path, options, args.cache_dir) for path in files]
    print_table(results, f"model {args.model}, diarization {args.diarization}")


if __name__ == "__main__":
    main()
