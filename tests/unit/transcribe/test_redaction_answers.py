"""The answer to a request for payment data is covered whatever ASR made of it: the words the
customer said after the agent asked, until the agent speaks again, capped; not a mere mention,
not a refusal, not what the customer asks; on a mono call the agent is the speaker in that role."""

from __future__ import annotations

from dataclasses import replace

from transcribe.formats import from_json, to_json
from transcribe.redaction.answers import AnswerCoverParams, answers, requested
from transcribe.redaction.stage import SecondHearing, redact_transcript
from transcribe.types import Speaker, TranscribeOptions, Transcript, Utterance, Word

STEREO = (Speaker("S1", "agent", 0), Speaker("S2", "customer", 1))
DEFAULTS = TranscribeOptions()


def _utterance(speaker: str, start: float, text: str, step: float = 0.4) -> Utterance:
    words = tuple(
        Word(round(start + step * i, 3), round(start + step * i + 0.3, 3), f" {token}", 0.9, speaker)
        for i, token in enumerate(text.split())
    )
    return Utterance(speaker, words[0].start, words[-1].end, text, words)


def _call(
    *utterances: Utterance,
    speakers: tuple[Speaker, ...] = STEREO,
    options: TranscribeOptions = DEFAULTS,
) -> Transcript:
    return Transcript("en", 120.0, speakers, utterances, options, {"asr": "tiny.en"})


def test_an_answer_asr_misheard_is_covered_as_the_type_asked_for_words_and_stretch() -> None:
    heard = _call(
        _utterance("S1", 0.0, "Can I have your card number please?"),
        _utterance("S2", 3.5, "Sure, it is a free item."),  # what tiny.en made of sixteen digits
        _utterance("S1", 8.0, "Thank you."),
    )
    redaction = redact_transcript(heard)
    assert [(s.entity, s.speaker) for s in redaction.spans] == [("CARD", "S2")]
    span = redaction.spans[0]
    answer = heard.utterances[1]
    # Every word of the answer, and its whole stretch: from the end of the request on, never
    # into the agent's next words.
    assert len(span.words) == len(answer.words)
    assert span.heard == tuple(w.text for w in answer.words)
    assert span.start <= answer.start and span.end >= answer.end
    assert heard.utterances[0].end <= span.start and span.end <= heard.utterances[2].start
    kept = redaction.transcript
    assert kept.utterances[1].text == "[CARD]"
    assert {(w.text, w.entity) for w in kept.utterances[1].words} == {("[CARD]", "CARD")}
    assert [(w.start, w.end) for w in kept.utterances[1].words] == [(w.start, w.end) for w in answer.words]
    assert kept.utterances[0] is heard.utterances[0] and kept.utterances[2] is heard.utterances[2]
    # The transcript JSON keeps the type beside the placeholder.
    again = from_json(to_json(kept))
    assert {w.entity for w in again.utterances[1].words} == {"CARD"}


def test_a_phone_number_asked_for_is_covered_only_where_phone_numbers_are_redacted() -> None:
    utterances = (
        _utterance("S1", 0.0, "On which phone number can we reach you?"),
        _utterance("S2", 3.5, "Sure, it is perfect for 3, 7, 3, 8, 1, 10 and 1."),  # "oh six four three ..."
        _utterance("S1", 9.0, "Thank you."),
    )
    by_default = redact_transcript(_call(*utterances))
    assert by_default.spans == ()
    with_phones = replace(DEFAULTS, redact=(*DEFAULTS.redact, "PHONE"))
    redaction = redact_transcript(_call(*utterances, options=with_phones))
    assert [(s.entity, s.speaker, len(s.words)) for s in redaction.spans] == [
        ("PHONE", "S2", len(utterances[1].words))
    ]
    # A deferral is not the number, in English or Dutch.
    for request, reply in (
        ("On which phone number can we reach you?", "Just use the number you already have for me."),
        ("Op welk telefoonnummer kunnen we u bereiken?", "Dat nummer heeft u al, van de vorige keer."),
    ):
        deferred = _call(_utterance("S1", 0.0, request), _utterance("S2", 3.5, reply), options=with_phones)
        assert redact_transcript(deferred).spans == (), reply
    # A phone mentioned is no request: "your phone" without a number asked for.
    assert requested("I see you called from your mobile yesterday.", AnswerCoverParams()) is None
    assert requested("What is the best number to reach you on?", AnswerCoverParams()) == "PHONE"
    assert requested("Op welk telefoonnummer kunnen we u bereiken?", AnswerCoverParams()) == "PHONE"


def test_the_code_on_the_back_of_the_card_is_asked_for_as_a_cvc_and_each_request_has_its_answer() -> None:
    heard = _call(
        _utterance("S1", 0.0, "Can I have the card number?"),
        _utterance("S2", 3.0, "yes it's for for a nine"),
        _utterance("S1", 6.0, "mm-hmm"),  # a backchannel does not end the answer
        _utterance("S2", 7.0, "and then to free with nine"),
        _utterance("S1", 11.0, "And the security code on the back of the card?"),
        _utterance("S2", 15.5, "it is seventy seven"),
        _utterance("S1", 18.0, "Thank you, that is all I need."),
    )
    spans = redact_transcript(heard).spans
    assert [s.entity for s in spans] == ["CARD", "CVC"]
    card, code = spans
    assert {at.utterance for at in card.words} == {1, 3}
    assert card.end <= heard.utterances[4].start
    assert {at.utterance for at in code.words} == {5}


def test_a_mention_of_a_card_asks_for_nothing() -> None:
    heard = _call(
        _utterance("S2", 0.0, "My card was declined yesterday."),
        _utterance("S1", 3.0, "I see that your card number was blocked, let me check that."),
        _utterance("S2", 8.0, "It is a free item."),
        _utterance("S1", 11.0, "Your card number has been updated."),
        _utterance("S2", 14.0, "Great, a free item then."),
    )
    assert answers(heard) == ()
    assert redact_transcript(heard).spans == ()


def test_a_short_refusal_or_a_question_back_with_no_digit_is_not_the_data() -> None:
    for reply in (
        "Sorry, I don't have it with me.",
        "Which card do you mean? The old one or the new one.",  # "one" is no digit here
        "Yes.",  # to "is it still the same?": too short to be a number not heard
        "It's on the card I used last time.",
    ):
        heard = _call(
            _utterance("S1", 0.0, "What is the security code on the back?"),
            _utterance("S2", 3.0, reply),
            _utterance("S1", 7.0, "No problem."),
        )
        assert redact_transcript(heard).spans == (), reply
    # A refusal that goes on to read digits is the data.
    heard = _call(
        _utterance("S1", 0.0, "What is the security code on the back?"),
        _utterance("S2", 3.0, "Sorry, hold on, it is four oh six"),
        _utterance("S1", 7.0, "Thank you."),
    )
    assert [s.entity for s in redact_transcript(heard).spans] == ["CVC"]


def test_on_a_mono_call_the_speaker_in_the_agent_role_asks_and_nobody_asks_without_roles() -> None:
    utterances = (
        _utterance("SPEAKER_00", 0.0, "Can I give you my card number?"),  # the customer offers
        _utterance("SPEAKER_01", 3.0, "Yes please, what is the card number?"),
        _utterance("SPEAKER_00", 6.0, "It is a free item."),
        _utterance("SPEAKER_01", 9.0, "Thank you."),
    )
    mono = (Speaker("SPEAKER_00", "customer"), Speaker("SPEAKER_01", "agent"))
    spans = redact_transcript(_call(*utterances, speakers=mono)).spans
    assert [(s.entity, s.speaker, {at.utterance for at in s.words}) for s in spans] == [
        ("CARD", "SPEAKER_00", {2})
    ]
    roleless = (Speaker("SPEAKER_00"), Speaker("SPEAKER_01"))
    assert redact_transcript(_call(*utterances, speakers=roleless)).spans == ()


def test_on_a_call_diarized_as_one_voice_the_utterance_after_a_request_is_its_answer() -> None:
    heard = _call(
        _utterance("S1", 0.0, "And the security code on the back of the card."),  # no "?" heard
        _utterance("S1", 4.0, "Sure, it is a free item."),
        _utterance("S1", 7.5, "Thank you, that is all for today."),
        speakers=(Speaker("S1", "agent"),),
    )
    # The request and a refusal heard as one utterance: the agent's "thank you" after it is no answer.
    merged = _call(
        _utterance("S1", 0.0, "Can I have your card number please sorry, I don't have it with me"),
        _utterance("S1", 6.0, "Thank you"),
        speakers=(Speaker("S1", "agent"),),
    )
    assert redact_transcript(merged).spans == ()
    (span,) = redact_transcript(heard).spans
    assert span.entity == "CVC" and {at.utterance for at in span.words} == {1}
    assert span.end <= heard.utterances[2].start
    off = AnswerCoverParams(one_voice_answer_utterances=0)
    assert redact_transcript(heard, cover=off).spans == ()


def test_on_a_call_diarized_as_one_voice_a_backchannel_before_the_answer_does_not_end_it() -> None:
    # bench.redaction, a mono call at 8 kHz heard as one voice: "Sure." and then the number,
    # "zero six eight four four one two zero five four" heard as below.
    with_phones = replace(DEFAULTS, redact=(*DEFAULTS.redact, "PHONE"))
    heard = _call(
        _utterance("S1", 0.0, "On which phone number can we read you?"),
        _utterance("S1", 3.4, "Sure."),
        _utterance("S1", 4.0, "It is Neilofic 841 -22 Neilofine 4."),
        _utterance("S1", 7.9, "Thank you, that is all for today."),
        speakers=(Speaker("S1", "agent"),),
        options=with_phones,
    )
    (span,) = redact_transcript(heard).spans
    assert span.entity == "PHONE" and {at.utterance for at in span.words} == {1, 2}
    assert span.end <= heard.utterances[3].start
    # A backchannel and then no more than the agent's next words: covered only where they are
    # more than a backchannel, as before.
    thanked = _call(
        _utterance("S1", 0.0, "On which phone number can we reach you?"),
        _utterance("S1", 3.4, "Sure."),
        _utterance("S1", 4.0, "Thank you."),
        speakers=(Speaker("S1", "agent"),),
        options=with_phones,
    )
    assert redact_transcript(thanked).spans == ()


def test_the_cover_ends_at_its_cap_when_the_answer_goes_on() -> None:
    request = _utterance("S1", 0.0, "Please read me the card number.")
    rambling = _utterance("S2", 3.0, " ".join(["and", "then", "a", "free", "item"] * 30), step=0.5)
    heard = _call(request, rambling)
    params = AnswerCoverParams(max_answer_s=20.0)
    (span,) = redact_transcript(heard, cover=params).spans
    assert span.end <= request.end + params.max_answer_s
    covered = [rambling.words[at.word] for at in span.words]
    assert covered and all(w.start < request.end + params.max_answer_s for w in covered)
    assert len(covered) < len(rambling.words)


def test_only_types_both_the_cover_and_the_call_redact_are_covered() -> None:
    utterances = (
        _utterance("S1", 0.0, "What is your IBAN?"),
        _utterance("S2", 3.0, "It is an el for two a bee"),
        _utterance("S1", 7.0, "Thank you."),
    )
    assert [s.entity for s in redact_transcript(_call(*utterances)).spans] == ["IBAN"]
    no_iban = TranscribeOptions(redact=("CARD", "CVC"))
    assert redact_transcript(_call(*utterances, options=no_iban)).spans == ()
    off = AnswerCoverParams(entities=frozenset())
    assert redact_transcript(_call(*utterances), cover=off).spans == ()


def test_a_finding_of_the_type_asked_for_leaves_the_answer_to_it() -> None:
    heard = _call(
        _utterance("S1", 0.0, "And the security code?"),
        _utterance("S2", 3.0, "sure it's seven three seven"),
        _utterance("S1", 6.0, "Thank you."),
    )
    (span,) = redact_transcript(heard).spans
    assert span.entity == "CVC" and [at.word for at in span.words] == [2, 3, 4]


def test_requests_are_questions_or_imperatives_with_a_cue() -> None:
    params = AnswerCoverParams()
    assert requested("Can I have your card number please?", params) == "CARD"
    assert requested("Please read me the long number on the card.", params) == "CARD"
    assert requested("And the expiry date?", params) == "EXPIRY"
    assert requested("And the security code on the back of the card.", params) == "CVC"
    assert requested("Mag ik uw kaartnummer?", params) == "CARD"
    assert requested("Your card number has been updated.", params) is None
    assert requested("My card was declined.", params) is None
    assert requested("Which bank are you with?", replace(params, entities=frozenset({"CARD"}))) is None


def test_a_request_heard_only_in_its_second_hearing_is_a_request() -> None:
    heard = _call(
        _utterance("S1", 0.0, "What is your event?"),  # tiny.en's first hearing of "What is your IBAN?"
        _utterance("S2", 3.0, "Sure, it is the demand L 7 0 and DB 6 create 4 7 0 2 4 9 6"),
        _utterance("S1", 12.0, "Thank you."),
    )
    assert answers(heard) == ()
    (answer,) = answers(heard, AnswerCoverParams(), {0: "What is your IBAN?"})
    assert answer.entity == "IBAN" and {u for u, _ in answer.words} == {1}
    again = SecondHearing(
        0,
        tuple(
            replace(w, text=t)
            for w, t in zip(heard.utterances[0].words, ("What", "is", "your", "IBAN?"), strict=True)
        ),
    )
    assert [s.entity for s in redact_transcript(heard, (again,)).spans] == ["IBAN"]
    # A second hearing of the customer's words asks nothing: only the asker requests.
    assert answers(heard, AnswerCoverParams(), {1: "What is your IBAN?"}) == ()
