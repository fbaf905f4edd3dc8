"""The embedded tiny.en model, loaded once for every test in this folder that runs it."""

from __future__ import annotations

from pathlib import Path

import pytest
from faster_whisper import WhisperModel

from transcribe.models import load_whisper


@pytest.fixture(scope="session")
def models_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def tiny_en(models_cache) -> WhisperModel:
    return load_whisper("tiny.en", models_cache, "cpu", "int8")
