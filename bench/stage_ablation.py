"""What each pipeline stage is worth: all stages, then each left out in turn, and parameter sweeps.

    .venv/bin/python -m bench.stage_ablation [FOLDER ...] [--set stage.param=V1,V2 ...] [--no-ablation]

FOLDERs (default ``shared/eval``) hold recordings with references as ``bench.accuracy`` reads them
(``bench.make_synthetic_calls`` writes such a folder). Each configuration prints one line: the
total WER, DER (no collar, overlap scored: missed / false alarm / confusion) over all files, then
each file's DER and speaker count (``name: DER/spk``; ``-`` where the file has no RTTM). A
stage's row reads ``-stage``; a sweep's, ``stage.param=value``. Stages without which there is no
transcript (ASR, diarization, attribution, a channel's word turns) are never left out.

The call after every stage is kept, by the stages and parameters that led to it: a configuration
only runs the stages from the first one it changes, so leaving out a late stage or sweeping its
parameter costs seconds, not another ASR and diarization pass.
"""

from __future__ import annotations

import argparse
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.accuracy import AUDIO_SUFFIXES, DEFAULT_FOLDER, FileResult, evaluate_file
from bench.scoring import score_diarization, word_error_rate
from transcribe import pipeline
from transcribe.call import Call, Stage, stage_params
from transcribe.stages import MONO, REQUIRED, STEREO, path
from transcribe.types import Audio, TranscribeOptions, Transcript

_calls: dict[tuple[Any, ...], Call] = {}


def transcribe_with(
    name: str, stereo_of: dict[str, bool], without: frozenset[str], params: dict[str, Any]
) -> Any:
    """A ``bench.accuracy`` transcriber running ``name``'s path, less ``without``, with ``params``;
    calls after each stage are reused across configurations."""

    def transcribe(recording: Audio, options: TranscribeOptions, cache_dir: Path) -> Transcript:
        key: tuple[Any, ...] = (name,)
        call = _calls.get(key)
        if call is None:
            call = _calls[key] = pipeline.start(recording, options, cache_dir=cache_dir)
        stereo_of[name] = call.channels is not None
        for stage in path(call.channels is not None, params, without):
            key = (*key, stage.name, stage.params)
            after = _calls.get(key)
            if after is None:
                after = _calls[key] = stage.apply(call)
            call = after
        return pipeline.finish(call)

    return transcribe


def _der(result: FileResult) -> str:
    return "-" if result.diarization is None else f"{100 * score_diarization([result.diarization]).der:.1f}"


def _row(label: str, results: Sequence[FileResult]) -> str:
    texts = [r.text for r in results if r.text]
    pairs = [r.diarization for r in results if r.diarization]
    wer = word_error_rate(*zip(*texts, strict=True)) if texts else float("nan")
    d = score_diarization(pairs)
    files = " ".join(f"{r.name.split('.')[0][:14]}:{_der(r)}/{r.speakers}" for r in results)
    return (
        f"{label:<34} WER {100 * wer:5.1f}  DER {100 * d.der:5.1f} (m {100 * d.missed:4.1f} fa "
        f"{100 * d.false_alarm:4.1f} c {100 * d.confusion:4.1f})  {files}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("folders", nargs="*", type=Path, default=[DEFAULT_FOLDER])
    parser.add_argument(
        "--set", action="append", default=[], help="stage.param=V1,V2,... (a parameter to sweep)"
    )
    parser.add_argument("--no-ablation", action="store_true", help="only the defaults and the sweeps")
    parser.add_argument("--cache-dir", type=Path, default=Path(".earshot/models"))
    parser.add_argument("--model", default="tiny.en")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", module="pyannote")
    options = TranscribeOptions(model=args.model)
    files = sorted(
        p for folder in args.folders for p in folder.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES
    )
    stereo_of: dict[str, bool] = {}

    def results(
        without: frozenset[str] = frozenset(), params: dict[str, Any] | None = None
    ) -> list[FileResult]:
        return [
            evaluate_file(
                f, transcribe_with(str(f), stereo_of, without, params or {}), options, args.cache_dir
            )
            for f in files
        ]

    print(_row("all stages (defaults)", results()))
    if not args.no_ablation:
        kinds: Sequence[type[Stage]] = [*dict.fromkeys([*MONO, *STEREO])]
        for kind in kinds:
            if kind.name not in REQUIRED:
                print(_row(f"-{kind.name}", results(frozenset({kind.name}))))
    for item in args.set:
        key, _, values = item.partition("=")
        for value in values.split(","):
            try:
                params = stage_params([(key, value)])
            except ValueError as e:
                parser.error(str(e))
            stage, _, name = key.partition(".")
            print(_row(f"{key}={getattr(params[stage], name)}", results(params=params)))


if __name__ == "__main__":
    main()
