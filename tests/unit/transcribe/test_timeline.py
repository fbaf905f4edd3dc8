"""Who spoke when: the diarized turns a transcript keeps, and the timeline its words give."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from transcribe.timeline import kept_turns, speaker_turns, who_spoke_when
from transcribe.types import SpeakerTurn, TranscribeOptions, Transcript, Utterance, Word


def _utterance(speaker: str, *spans: tuple[float, float]) -> Utterance:
    words = tuple(Word(start, end, "w", 0.9, speaker) for start, end in spans)
    return Utterance(speaker, words[0].start, words[-1].end, "w " * len(words), words)


def test_a_speaker_holds_the_floor_through_short_pauses_of_their_own():
    turns = speaker_turns([_utterance("S1", (1.0, 1.4), (2.0, 2.5)), _utterance("S1", (3.2, 3.6))])
    assert turns == (SpeakerTurn(1.0, 3.6, "S1"),)


def test_a_long_pause_stays_silence():
    turns = speaker_turns([_utterance("S1", (1.0, 1.4)), _utterance("S1", (2.4, 3.0))])
    assert turns == (SpeakerTurn(1.0, 1.4, "S1"), SpeakerTurn(2.4, 3.0, "S1"))


def test_a_brief_silence_where_the_floor_changes_hands_is_split_halfway():
    turns = speaker_turns([_utterance("S1", (1.0, 2.0)), _utterance("S2", (2.4, 3.0))])
    assert turns == (SpeakerTurn(1.0, 2.2, "S1"), SpeakerTurn(2.2, 3.0, "S2"))


def test_a_longer_silence_between_speakers_is_nobodys():
    turns = speaker_turns([_utterance("S1", (1.0, 2.0)), _utterance("S2", (2.8, 3.0))])
    assert turns == (SpeakerTurn(1.0, 2.0, "S1"), SpeakerTurn(2.8, 3.0, "S2"))


def test_a_pause_filled_by_the_other_party_is_not_given_to_the_first():
    turns = speaker_turns([_utterance("S1", (1.0, 2.0), (2.6, 3.0)), _utterance("S2", (2.1, 2.5))])
    assert [turn.speaker for turn in turns] == ["S1", "S2", "S1"]
    assert turns[1] == SpeakerTurn(2.05, 2.55, "S2")


def test_overtalk_stays_overlapping():
    turns = speaker_turns([_utterance("S1", (1.0, 2.0)), _utterance("S2", (1.5, 2.5))])
    assert turns == (SpeakerTurn(1.0, 2.0, "S1"), SpeakerTurn(1.5, 2.5, "S2"))


def test_an_utterance_without_word_timings_counts_as_one_word():
    bare = Utterance("S2", 4.0, 5.0, "mm-hmm", ())
    assert speaker_turns([bare]) == (SpeakerTurn(4.0, 5.0, "S2"),)


_word_spans = st.lists(
    st.tuples(
        st.sampled_from(["S1", "S2", "S3"]),
        st.floats(0, 100, allow_nan=False),
        st.floats(0, 3, allow_nan=False),
    ),
    max_size=40,
)


@given(_word_spans)
def test_every_word_lies_inside_a_turn_of_its_speaker(spans):
    utterances = [_utterance(speaker, (start, start + length)) for speaker, start, length in spans]
    turns = speaker_turns(utterances)
    for speaker, start, length in spans:
        assert any(t.speaker == speaker and t.start <= start and start + length <= t.end for t in turns)
    assert all(t.end >= t.start for t in turns)


def _transcript(utterances: list[Utterance], turns: tuple[SpeakerTurn, ...]) -> Transcript:
    return Transcript("en", 10.0, (), tuple(utterances), TranscribeOptions(), {}, turns=turns)


def test_the_diarized_turns_are_who_spoke_when_where_a_transcript_has_them():
    heard = (SpeakerTurn(0.7, 2.2, "S1"), SpeakerTurn(2.0, 3.1, "S2"))
    transcript = _transcript([_utterance("S1", (1.0, 2.0)), _utterance("S2", (2.4, 3.0))], heard)
    assert who_spoke_when(transcript) == heard


def test_a_transcript_without_turns_gets_the_timeline_of_its_words():
    utterances = [_utterance("S1", (1.0, 2.0)), _utterance("S2", (2.4, 3.0))]
    assert who_spoke_when(_transcript(utterances, ())) == speaker_turns(utterances)


def test_kept_turns_cut_out_what_the_phone_system_played():
    turns = [SpeakerTurn(0.0, 10.0, "S1")]
    played = [(6.0, 7.0), (2.0, 4.0)]  # a tone, and music before it
    assert kept_turns(turns, [_utterance("S1", (0.5, 1.0))], played) == (
        SpeakerTurn(0.0, 2.0, "S1"),
        SpeakerTurn(4.0, 6.0, "S1"),
        SpeakerTurn(7.0, 10.0, "S1"),
    )


def test_kept_turns_drop_a_turn_inside_music_and_a_voice_the_phone_system_played():
    turns = [SpeakerTurn(0.0, 1.0, "S1"), SpeakerTurn(2.0, 3.0, "S1"), SpeakerTurn(3.2, 5.0, "S3")]
    # S3 said no word and 1.2 of its 1.8 s were a prompt: the diarizer heard the recording.
    assert kept_turns(turns, [_utterance("S1", (0.2, 0.8))], [(1.5, 4.4)]) == (SpeakerTurn(0.0, 1.0, "S1"),)


def test_kept_turns_keep_a_voice_that_said_no_word_the_asr_heard():
    """A backchannel ("Mm. Yeah.") or a voice talked over is a person who spoke, words or not."""
    turns = [SpeakerTurn(0.0, 3.0, "S1"), SpeakerTurn(1.0, 2.0, "S2"), SpeakerTurn(5.0, 6.0, "S3")]
    played = [(5.8, 7.0)]  # a tone that clips the end of S3's turn
    assert kept_turns(turns, [_utterance("S1", (0.2, 2.8))], played) == (
        SpeakerTurn(0.0, 3.0, "S1"),
        SpeakerTurn(1.0, 2.0, "S2"),
        SpeakerTurn(5.0, 5.8, "S3"),
    )


def test_overtalk_does_not_break_either_speakers_turn():
    """Stereo words: S2 talks over S1, and both keep one turn each through their own pauses."""
    turns = speaker_turns(
        [
            _utterance("S2", (1.42, 2.0), (2.02, 2.4)),
            _utterance("S1", (1.62, 2.1), (2.18, 4.66)),
        ]
    )
    assert turns == (SpeakerTurn(1.42, 2.4, "S2"), SpeakerTurn(1.62, 4.66, "S1"))
