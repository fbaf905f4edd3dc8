"""Issue 5's accuracy goals on the real eval call, measured the way ``bench.accuracy`` measures
them, so a change that makes attribution worse fails here and not only in a benchmark run."""

from __future__ import annotations

import pytest

from bench.accuracy import evaluate_file, transcribe_ours
from bench.scoring import score_diarization
from tests.paths import EVAL
from transcribe.types import TranscribeOptions


@pytest.mark.slow
def test_the_real_phone_call_meets_the_word_attribution_goal(models_cache):
    result = evaluate_file(EVAL / "phone_call_2spk.wav", transcribe_ours, TranscribeOptions(), models_cache)

    assert result.speakers == 2
    assert result.attribution is not None and result.attribution.value is not None
    assert result.attribution.value >= 0.92, f"{result.attribution}"  # the goal; 95.8% when written
    assert result.diarization is not None
    # The DER goal (12%) is not met: 13.1% now (15.1% before turns were cut to the voice), 7.8
    # points of it overlapped speech that a one-speaker-at-a-time diarizer cannot score.
    score = score_diarization([result.diarization])
    assert score.der <= 0.15, f"{score}"
