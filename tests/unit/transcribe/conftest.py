"""The embedded tiny.en model, loaded once for every test in this folder that runs it.

``EARSHOT_TEST_COMPUTE_TYPE=float32`` (or any CTranslate2 compute type) runs every Whisper model
these tests load at that type instead of the options' ``int8``: ``tests/run_cpu_variants.sh`` runs
this folder that way and with one and two threads, because int8 kernels differ between CPUs and
a test must hold on all of them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from faster_whisper import WhisperModel

from transcribe import models
from transcribe.models import load_whisper

COMPUTE_TYPE_ENV = "EARSHOT_TEST_COMPUTE_TYPE"


@pytest.fixture(scope="session", autouse=True)
def whisper_compute_type() -> Iterator[str | None]:
    compute_type = os.environ.get(COMPUTE_TYPE_ENV) or None
    if compute_type is None:
        yield None
        return

    def at_test_compute_type(*args: Any, **kwargs: Any) -> WhisperModel:
        return WhisperModel(*args, **{**kwargs, "compute_type": compute_type})

    models.load_whisper.cache_clear()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(models, "WhisperModel", at_test_compute_type)
        yield compute_type
    models.load_whisper.cache_clear()


@pytest.fixture(scope="session")
def models_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def tiny_en(models_cache) -> WhisperModel:
    return load_whisper("tiny.en", models_cache, "cpu", "int8")
