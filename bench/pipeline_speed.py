"""Real-time factor of our pipeline next to plain faster-whisper, same audio, model and run.

    .venv/bin/python -m bench.pipeline_speed [--model tiny.en] [--minutes 5] [--pairs 3]

Builds a stereo and a mono call of at least ``--minutes`` by concatenating the recordings in
shared/eval (stereo: each file on alternating channels with gaps, like two parties taking turns;
mono: the same audio mixed down), then times, on each:
- plain faster-whisper (``WhisperModel.transcribe`` with word timestamps and VAD, as we use it),
- ``earshot transcribe`` (decode + pipeline) with ``--diarization channels`` resp. ``embedded``.
Models are loaded and warmed first; only transcription is timed. Ratios are what to read: the
machine is shared and noisy. Each path is timed ``--pairs`` times, plain and ours one after the
other; the pair whose CPU ratio is the median is printed, beside the range of each ratio over all
pairs: single runs drifted by 10% between runs of the bench (mono 1.34x and 1.38x CPU on one
machine within minutes).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import soundfile as sf

from bench.accuracy import DEFAULT_FOLDER
from transcribe import audio, models, pipeline
from transcribe.types import SAMPLE_RATE, DiarizationBackend, TranscribeOptions


def build_call(folder: Path, minutes: float) -> np.ndarray:
    """A (2, frames) turn-taking call: each clip on one channel while the other is silent."""
    clips = [audio.decode(p).mono() for p in sorted(folder.iterdir()) if p.suffix in {".wav", ".flac"}]
    gap = np.zeros(int(0.4 * SAMPLE_RATE), dtype=np.float32)
    pieces: list[np.ndarray] = []
    frames, channel = 0, 0
    while frames < minutes * 60 * SAMPLE_RATE:
        for clip in clips:
            stereo = np.zeros((2, len(clip) + len(gap)), dtype=np.float32)
            stereo[channel, : len(clip)] = clip
            pieces.append(stereo)
            frames += stereo.shape[1]
            channel = 1 - channel
    return np.concatenate(pieces, axis=1)


def time_plain_faster_whisper(path: Path, options: TranscribeOptions, cache_dir: Path) -> tuple[float, float]:
    """Wall and CPU seconds (this process, all threads) of plain faster-whisper on ``path``."""
    model = models.load_whisper(options.model, cache_dir, options.device, options.compute_type)
    began, cpu = time.perf_counter(), time.process_time()
    segments, _ = model.transcribe(
        str(path), word_timestamps=True, vad_filter=True, beam_size=options.beam_size, language="en"
    )
    for _ in segments:
        pass
    return time.perf_counter() - began, time.process_time() - cpu


def time_pipeline(path: Path, options: TranscribeOptions, cache_dir: Path) -> tuple[float, float]:
    began, cpu = time.perf_counter(), time.process_time()
    pipeline.run(audio.decode(path), options, cache_dir=cache_dir)
    return time.perf_counter() - began, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="tiny.en")
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--folder", type=Path, default=DEFAULT_FOLDER)
    parser.add_argument("--cache-dir", type=Path, default=Path(".earshot/models"))
    parser.add_argument("--pairs", type=int, default=3, help="timings of each path, plain then ours")
    args = parser.parse_args()
    if args.pairs < 1:
        parser.error("--pairs must be at least 1")
    call = build_call(args.folder, args.minutes)
    duration = call.shape[1] / SAMPLE_RATE
    with tempfile.TemporaryDirectory() as tmp:
        stereo, mono = Path(tmp) / "stereo.wav", Path(tmp) / "mono.wav"
        sf.write(stereo, call.T, SAMPLE_RATE)
        sf.write(mono, call.mean(axis=0), SAMPLE_RATE)
        print(f"model {args.model} int8, {duration:.0f} s of audio ({duration / 60:.1f} min)")
        backends: tuple[tuple[Path, DiarizationBackend], ...] = ((stereo, "channels"), (mono, "embedded"))
        for path, backend in backends:
            options = TranscribeOptions(model=args.model, diarization=backend)
            warmup = Path(tmp) / f"warm_{backend}.wav"
            # Around where the second clip starts, so that both channels carry speech.
            second = int(np.argmax(np.abs(call[1]) > 0))
            head = call[:, max(0, second - 10 * SAMPLE_RATE) : second + 10 * SAMPLE_RATE]
            sf.write(warmup, head.T if backend == "channels" else head.mean(axis=0), SAMPLE_RATE)
            time_pipeline(warmup, options, args.cache_dir)
            pairs = []
            for _ in range(args.pairs):
                plain, plain_cpu = time_plain_faster_whisper(path, options, args.cache_dir)
                ours, ours_cpu = time_pipeline(path, options, args.cache_dir)
                pairs.append((ours_cpu / plain_cpu, ours / plain, plain, plain_cpu, ours, ours_cpu))
            cpu_ratio, wall_ratio, plain, plain_cpu, ours, ours_cpu = sorted(pairs)[len(pairs) // 2]
            print(
                f"{path.stem:<7} {backend:<9} plain faster-whisper RTF {plain / duration:.3f} "
                f"({plain_cpu / duration:.3f} CPU s per audio s)  earshot RTF {ours / duration:.3f} "
                f"({ours_cpu / duration:.3f} CPU s)  ratio {wall_ratio:.2f}x wall, {cpu_ratio:.2f}x CPU "
                f"(median of {len(pairs)}; CPU {_spread(pair[0] for pair in pairs)}, "
                f"wall {_spread(pair[1] for pair in pairs)})"
            )


def _spread(ratios: Iterable[float]) -> str:
    values = sorted(ratios)
    return f"{values[0]:.2f}-{values[-1]:.2f}x, mean {statistics.fmean(values):.2f}x"


if __name__ == "__main__":
    main()
