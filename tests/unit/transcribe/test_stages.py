"""The pipeline's stages as declared: names, parameters, and overrides reaching them."""

import dataclasses

import pytest

from transcribe.bleed import BleedParams
from transcribe.call import STAGE_PARAMS, StageParamError, checked_overrides, stage_params
from transcribe.formats import from_json, to_json
from transcribe.stages import MONO, STEREO, path, stages_for
from transcribe.types import TranscribeOptions, Transcript


def test_every_stage_is_named_with_its_parameter_type() -> None:
    for kind in {*STEREO, *MONO}:
        assert isinstance(kind().params, STAGE_PARAMS[kind.name]())
        assert dataclasses.is_dataclass(kind().params)
        assert kind.__dataclass_params__.frozen  # type: ignore[attr-defined]


def test_an_override_reaches_its_stage_and_only_it() -> None:
    stages = {stage.name: stage for stage in stages_for(True, (("bleed.margin_db", 12.0),))}
    assert stages["bleed"].params == BleedParams(margin_db=12.0)
    assert [stage.name for stage in path(True, without=frozenset({"bleed"}))] == [
        kind.name for kind in STEREO if kind.name != "bleed"
    ]
    assert stages_for(False, ())[2].params == STAGE_PARAMS["diarize"]()()


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("nope.x", "unknown pipeline stage 'nope'"),
        ("bleed.x", "unknown parameter 'x' of pipeline stage 'bleed'"),
    ],
)
def test_unknown_stage_or_parameter_is_refused(key: str, message: str) -> None:
    with pytest.raises(StageParamError, match=message):
        stage_params([(key, 1)])


def test_transcripts_keep_their_stage_parameters() -> None:
    options = TranscribeOptions(pipeline_params=(("repeats.loop_repeats", 5), ("bleed.margin_db", 12.0)))
    assert options.pipeline_params == (("bleed.margin_db", 12.0), ("repeats.loop_repeats", 5))
    transcript = Transcript("en", 1.0, (), (), options, {})
    assert from_json(to_json(transcript)).options == options


def test_redactions_parameters_are_set_like_a_stages_lists_of_words_included() -> None:
    """The second hearing and the answer cover run after the path (``transcribe.redaction``), and
    are tuned the same way; a list of words from the settings file is checked word by word."""
    from transcribe.redaction.answers import AnswerCoverParams

    overrides = checked_overrides({"answer_cover.entities": ["CVC", "CARD"], "answer_cover.max_answer_s": 20})
    assert overrides == (("answer_cover.entities", ("CARD", "CVC")), ("answer_cover.max_answer_s", 20.0))
    params = stage_params(overrides)
    assert params["answer_cover"] == AnswerCoverParams(entities=frozenset({"CARD", "CVC"}), max_answer_s=20.0)
    assert stage_params([("rehear.pad_s", "0.5")])["rehear"].pad_s == 0.5
    # The prompts are text; an empty one turns its prompt off.
    rehear = stage_params([("rehear.prompt", "4111 1111"), ("rehear.request_prompt", "")])["rehear"]
    assert (rehear.prompt, rehear.request_prompt) == ("4111 1111", "")
    options = TranscribeOptions(pipeline_params=overrides)
    assert from_json(to_json(Transcript("en", 1.0, (), (), options, {}))).options == options
    with pytest.raises(StageParamError, match="unknown CRAD"):
        checked_overrides({"answer_cover.entities": ["CRAD"]})
    with pytest.raises(StageParamError, match="expected a list of words"):
        checked_overrides({"answer_cover.refusals": "sorry"})
