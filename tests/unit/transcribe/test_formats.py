"""Golden checks of every export format on a hand-built two-party call."""

from __future__ import annotations

import dataclasses
import json

import pytest

from tests.contract import TRANSCRIPT_JSON_KEYS
from transcribe.formats import (
    FORMATS,
    from_json,
    speaker_display_name,
    speaker_display_names,
    to_json,
    to_rttm,
    to_srt,
    to_txt,
    to_vtt,
)
from transcribe.types import (
    NonSpeechSpan,
    Speaker,
    SpeakerTurn,
    TranscribeOptions,
    Transcript,
    Utterance,
    Word,
)


def _utterance(speaker: str, words: list[tuple[float, float, str]]) -> Utterance:
    built = tuple(Word(start, end, text, 0.875, speaker) for start, end, text in words)
    return Utterance(speaker, built[0].start, built[-1].end, " ".join(w.text for w in built), built)


@pytest.fixture
def call() -> Transcript:
    return Transcript(
        language="en",
        duration=3725.25,
        speakers=(Speaker("S1", "agent", 0), Speaker("S2", "customer", 1), Speaker("S3")),
        utterances=(
            _utterance("S1", [(1.0, 1.4, "Hello,"), (1.5, 2.25, "Acme.")]),
            _utterance("S2", [(62.5, 63.0, "Is"), (63.0, 63.5, "A<B"), (63.5, 64.125, "&more?")]),
            _utterance("S3", [(3723.5, 3724.0, "Goodbye.")]),
        ),
        options=TranscribeOptions(diarization="channels", hotwords="Acme", hf_token="hf_secret"),
        models={"asr": "tiny.en", "diarization": "channels"},
    )


def test_display_name_is_role_title_cased_else_label():
    assert speaker_display_name(Speaker("S1", "agent", 0)) == "Agent"
    assert speaker_display_name(Speaker("S7", "ivr")) == "IVR"
    assert speaker_display_name(Speaker("S3")) == "S3"


def test_two_voices_that_would_read_alike_are_numbered():
    speakers = (
        Speaker("S1", "agent", 0),
        Speaker("S2", "customer", 1),
        Speaker("S3", "agent", 0),
        Speaker("S4"),
    )
    assert speaker_display_names(speakers) == {"S1": "Agent", "S2": "Customer", "S3": "Agent 2", "S4": "S4"}


def test_txt(call):
    assert to_txt(call) == (
        "[00:00:01.000] Agent: Hello, Acme.\n"
        "[00:01:02.500] Customer: Is A<B &more?\n"
        "[01:02:03.500] S3: Goodbye.\n"
    )


def test_vtt_has_voice_tags_and_escaped_text(call):
    assert to_vtt(call) == (
        "WEBVTT\n"
        "\n"
        "00:00:01.000 --> 00:00:02.250\n<v Agent>Hello, Acme.\n"
        "\n"
        "00:01:02.500 --> 00:01:04.125\n<v Customer>Is A&lt;B &amp;more?\n"
        "\n"
        "01:02:03.500 --> 01:02:04.000\n<v S3>Goodbye.\n"
    )


def test_srt_numbers_cues_with_comma_milliseconds(call):
    assert to_srt(call) == (
        "1\n00:00:01,000 --> 00:00:02,250\nAgent: Hello, Acme.\n"
        "\n"
        "2\n00:01:02,500 --> 00:01:04,125\nCustomer: Is A<B &more?\n"
        "\n"
        "3\n01:02:03,500 --> 01:02:04,000\nS3: Goodbye.\n"
    )


def test_rttm_of_a_transcript_without_turns_follows_its_words(call):
    assert to_rttm(call, "call 42") == (
        "SPEAKER call_42 1 1.000 1.250 <NA> <NA> S1 <NA> <NA>\n"
        "SPEAKER call_42 1 62.500 1.625 <NA> <NA> S2 <NA> <NA>\n"
        "SPEAKER call_42 1 3723.500 0.500 <NA> <NA> S3 <NA> <NA>\n"
    )


def test_json_shape_is_the_stable_contract(call):
    data = json.loads(to_json(call))

    assert list(data) == TRANSCRIPT_JSON_KEYS
    assert data["speakers"][0] == {
        "label": "S1",
        "role": "agent",
        "channel": 0,
        "display_name": None,
        "role_source": None,
        "agent_similarity": None,
    }
    utterance = data["utterances"][1]
    assert list(utterance) == ["speaker", "start", "end", "text", "words"]
    assert utterance["words"][1] == {
        "start": 63.0,
        "end": 63.5,
        "text": "A<B",
        "probability": 0.875,
        "speaker": "S2",
        "entity": None,
    }
    assert data["models"] == {"asr": "tiny.en", "diarization": "channels"}
    assert data["options"]["hotwords"] == "Acme"
    assert data["options"]["channel_roles"] == ["agent", "customer"]
    assert "hf_token" not in data["options"]
    assert "hf_secret" not in to_json(call)


def test_json_rounds_times_to_milliseconds():
    words = (Word(0.12345678, 0.9876543, "Hi", 0.5, "S1"),)
    utterance = Utterance("S1", 0.12345678, 0.9876543, "Hi", words)
    transcript = Transcript("en", 1.0000001, (Speaker("S1"),), (utterance,), TranscribeOptions(), {})

    data = json.loads(to_json(transcript))

    assert data["duration"] == 1.0
    rendered = data["utterances"][0]
    assert (rendered["start"], rendered["end"]) == (0.123, 0.988)
    assert (rendered["words"][0]["start"], rendered["words"][0]["end"]) == (0.123, 0.988)


def test_json_round_trips_everything_but_the_token(call):
    back = from_json(to_json(call))

    assert back.options.hf_token is None
    assert back == Transcript(
        call.language,
        call.duration,
        call.speakers,
        call.utterances,
        TranscribeOptions(diarization="channels", hotwords="Acme"),
        call.models,
    )


@pytest.fixture
def on_hold(call) -> Transcript:
    """The same call with hold music on the agent's channel and a DTMF tone found in a mixdown."""
    return dataclasses.replace(
        call,
        non_speech=(NonSpeechSpan(2.5, 14.5, "music", 0), NonSpeechSpan(3724.0, 3724.25, "tone", None)),
    )


def test_json_lists_music_and_tones_between_utterances_and_options(on_hold):
    data = json.loads(to_json(on_hold))

    assert list(data)[3:6] == ["utterances", "non_speech", "turns"]
    assert data["non_speech"] == [
        {"start": 2.5, "end": 14.5, "kind": "music", "channel": 0},
        {"start": 3724.0, "end": 3724.25, "kind": "tone", "channel": None},
    ]
    assert from_json(to_json(on_hold)).non_speech == on_hold.non_speech


def test_json_written_before_non_speech_existed_still_reads(call):
    data = json.loads(to_json(call))
    del data["non_speech"]

    assert from_json(json.dumps(data)).non_speech == ()


@pytest.fixture
def diarized(call) -> Transcript:
    """The call with the turns a diarizer heard: wider than the words, S2 talking over S1."""
    turns = (SpeakerTurn(0.8, 2.6, "S1"), SpeakerTurn(2.2, 2.9, "S2"), SpeakerTurn(62.3, 64.4, "S2"))
    return dataclasses.replace(call, turns=turns)


def test_json_round_trips_diarized_turns(diarized):
    data = json.loads(to_json(diarized))

    assert data["turns"][1] == {"start": 2.2, "end": 2.9, "speaker": "S2"}
    assert from_json(to_json(diarized)).turns == diarized.turns


def test_json_options_of_another_version_still_read(call):
    """A file written by an older version lacks newer options (their defaults apply) and may carry
    options since dropped (left out), as the database's stored options are read."""
    data = json.loads(to_json(call))
    del data["options"]["hotwords"]
    data["options"]["vad_aggressiveness"] = 3  # dropped

    options = from_json(json.dumps(data)).options

    assert options == TranscribeOptions(diarization="channels")
    assert isinstance(options.channel_roles, tuple)


def test_json_written_before_turns_were_kept_still_reads(call):
    data = json.loads(to_json(call))
    del data["turns"]

    assert from_json(json.dumps(data)).turns == ()


def test_rttm_holds_the_diarized_turns_overlap_included(diarized):
    assert to_rttm(diarized, "c") == (
        "SPEAKER c 1 0.800 1.800 <NA> <NA> S1 <NA> <NA>\n"
        "SPEAKER c 1 2.200 0.700 <NA> <NA> S2 <NA> <NA>\n"
        "SPEAKER c 1 62.300 2.100 <NA> <NA> S2 <NA> <NA>\n"
    )


def test_txt_shows_music_and_tones_in_time_order_with_their_length(on_hold):
    assert to_txt(on_hold) == (
        "[00:00:01.000] Agent: Hello, Acme.\n"
        "[00:00:02.500] [hold music 12 s]\n"
        "[00:01:02.500] Customer: Is A<B &more?\n"
        "[01:02:03.500] S3: Goodbye.\n"
        "[01:02:04.000] [tone 0.2 s]\n"
    )


def test_vtt_and_srt_give_music_and_tones_a_cue_without_a_voice(on_hold):
    vtt = to_vtt(on_hold)
    srt = to_srt(on_hold)

    assert "00:00:02.500 --> 00:00:14.500\n[hold music]\n" in vtt
    assert "01:02:04.000 --> 01:02:04.250\n[tone]\n" in vtt
    assert vtt.count("<v ") == 3
    assert "2\n00:00:02,500 --> 00:00:14,500\n[hold music]\n" in srt
    assert "3\n00:01:02,500 --> 00:01:04,125\nCustomer: Is A<B &more?\n" in srt
    assert srt.endswith("5\n01:02:04,000 --> 01:02:04,250\n[tone]\n")


def test_rttm_leaves_music_and_tones_out(on_hold, call):
    assert to_rttm(on_hold, "x") == to_rttm(call, "x")


def test_every_format_renders_through_the_registry(call):
    assert set(FORMATS) == {"json", "txt", "vtt", "srt", "rttm"}
    assert FORMATS["rttm"](call, "x") == to_rttm(call, "x")
    assert FORMATS["vtt"](call, "x") == to_vtt(call)
    assert from_json(FORMATS["json"](call, "x")).utterances == call.utterances


def test_empty_transcript_renders_empty_documents():
    empty = Transcript("en", 4.0, (), (), TranscribeOptions(), {"asr": "tiny.en", "diarization": "embedded"})

    assert to_vtt(empty) == "WEBVTT\n"
    assert to_txt(empty) == to_srt(empty) == to_rttm(empty, "x") == ""
    assert from_json(to_json(empty)) == empty
