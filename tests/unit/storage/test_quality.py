"""Scorecards, evaluations, call comments, agent overviews and the guarded read services, on real
SQLite files with real WAV recordings and stored transcripts."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from recorder.types import CallMetadata
from storage import guarded
from storage.access import Principal
from storage.audit import list_audit, verify_audit_chain
from storage.blobs import BlobStore
from storage.db import Database, read_scope
from storage.errors import InvalidValue, NotFound, PermissionDenied
from storage.limits import (
    COMMENT_MAX_CHARS,
    FORM_NAME_MAX_CHARS,
    QUESTION_MAX_CHARS,
    SECTION_TITLE_MAX_CHARS,
    SPEAKER_NAME_MAX_CHARS,
)
from storage.models import AuditEntry, Recording, Thread
from storage.quality import (
    AnswerInput,
    Form,
    QuestionSpec,
    SectionSpec,
    acknowledge_evaluation,
    add_call_comment,
    agent_overview,
    compute_score,
    create_form,
    delete_call_comment,
    dispute_evaluation,
    edit_call_comment,
    failed_critical,
    get_evaluation,
    get_form,
    list_call_comments,
    list_evaluations,
    list_forms,
    save_answers,
    start_evaluation,
    submit_evaluation,
)
from storage.search import SearchFilters
from storage.services import ingest_recording, save_transcript
from tests.unit.storage.conftest import MakeRecording
from transcribe.types import Speaker, TranscribeOptions, Transcript, Utterance, Word

SECTIONS = (
    SectionSpec(
        "Opening",
        (
            QuestionSpec("Greets by name"),
            QuestionSpec("States purpose", kind="points", max_points=4, weight=3),
        ),
        weight=1,
    ),
    SectionSpec(
        "Compliance", (QuestionSpec("Reads disclosure"), QuestionSpec("Verifies identity")), weight=3
    ),
)


def _transcript(turns: list[tuple[str, float, float, str]]) -> Transcript:
    return Transcript(
        language="en",
        duration=2.0,
        speakers=(Speaker("S0", "agent", 0), Speaker("S1", "customer", 1)),
        utterances=tuple(
            Utterance(s, a, b, text, tuple(Word(a, b, w, 0.9, s) for w in text.split()))
            for s, a, b, text in turns
        ),
        options=TranscribeOptions(),
        models={"asr": "tiny.en"},
    )


@pytest.fixture
def calls(db: Database, blobs: BlobStore, make_recording: MakeRecording) -> dict[str, int]:
    """Two transcribed calls taken by Alice (customers Emma and Noah), one by Bob."""
    ids = {}
    for seed, (key, agent, customer, email, day) in enumerate(
        [
            ("emma", "Alice", "Emma Stone", "emma@example.com", datetime(2026, 11, 2, 9, tzinfo=UTC)),
            ("noah", "Alice", "Noah Berg", "noah@example.com", datetime(2026, 11, 10, 9, tzinfo=UTC)),
            ("bob", "Bob", "Emma Stone", "emma@example.com", datetime(2026, 11, 3, 9, tzinfo=UTC)),
        ]
    ):
        metadata = CallMetadata(agent=agent, customer_name=customer, customer_email=email, started_at=day)
        result = ingest_recording(db, make_recording(seed=seed, metadata=metadata), blobs, "NL")
        ids[key] = result.recording_id
    # Emma's call: the customer talks over the agent for 0.5 s; 0.2 s of silence at the end.
    save_transcript(
        db,
        ids["emma"],
        _transcript([("S0", 0.0, 1.0, "your refund is approved"), ("S1", 0.5, 1.8, "refund great")]),
    )
    save_transcript(
        db, ids["noah"], _transcript([("S0", 0.0, 1.0, "hello noah"), ("S1", 1.0, 2.0, "refund please")])
    )
    save_transcript(db, ids["bob"], _transcript([("S0", 0.0, 2.0, "refund for emma")]))
    return ids


def _form(db: Database, people: dict[str, Principal]) -> Form:
    return create_form(db, people["admin"], "Service call", SECTIONS)


def _answers(form: Form, *values: str) -> dict[int, AnswerInput]:
    questions = [q for s in form.sections for q in s.questions]
    return {q.id: AnswerInput(v) for q, v in zip(questions, values, strict=True)}  # type: ignore[misc]


# --- scores -------------------------------------------------------------------------------------


def _plain_form() -> Form:
    numbered = tuple(
        SectionSpec(
            s.title, tuple(dataclasses.replace(q, id=10 * i + j) for j, q in enumerate(s.questions)), s.weight
        )
        for i, s in enumerate(SECTIONS)
    )
    return Form(id=1, name="f", version=1, active=True, sections=numbered)


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        # Opening: (1*1 + 3*(2/4)) / 4 = 0.625; Compliance: (1 + 0) / 2 = 0.5 -> (1*0.625 + 3*0.5) / 4
        ({0: "yes", 1: "2", 10: "yes", 11: "no"}, 100 * (0.625 + 1.5) / 4),
        # n.a. drops out of its section: Opening = 2/4 = 0.5; Compliance = 1
        ({0: "na", 1: "2", 10: "yes", 11: "na"}, 100 * (0.5 + 3) / 4),
        # a section with only n.a. drops out of the call: only Compliance counts
        ({0: "na", 1: "na", 10: "yes", 11: "no"}, 50.0),
        ({0: "yes", 1: "4", 10: "yes", 11: "yes"}, 100.0),
        ({0: "no", 1: "0", 10: "no", 11: "no"}, 0.0),
        ({0: "na", 1: "na", 10: "na", 11: "na"}, None),
        ({}, None),
    ],
)
def test_compute_score_weights_and_not_applicable(answers: dict[int, str], expected: float | None) -> None:
    score = compute_score(_plain_form(), answers)
    assert score == (pytest.approx(expected) if expected is not None else None)


@pytest.mark.parametrize(("qid", "value"), [(0, "maybe"), (1, "5"), (1, "-1"), (1, "lots")])
def test_compute_score_rejects_values_outside_the_question(qid: int, value: str) -> None:
    with pytest.raises(InvalidValue, match="takes"):
        compute_score(_plain_form(), {qid: value})


def _critical_form() -> Form:
    """The plain form with "Verifies identity" (yes/no, id 11) and "States purpose" (points, id 1)
    critical."""
    form = _plain_form()
    return dataclasses.replace(
        form,
        sections=tuple(
            dataclasses.replace(
                s,
                questions=tuple(dataclasses.replace(q, critical=q.id in (1, 11)) for q in s.questions),
            )
            for s in form.sections
        ),
    )


@pytest.mark.parametrize(
    ("answers", "failed"),
    [
        ({0: "yes", 1: "4", 10: "yes", 11: "no"}, ["Verifies identity"]),
        ({0: "yes", 1: "0", 10: "yes", 11: "yes"}, ["States purpose"]),
        ({0: "yes", 1: "0", 10: "yes", 11: "no"}, ["States purpose", "Verifies identity"]),
    ],
)
def test_a_failed_critical_question_scores_zero_whatever_the_rest(
    answers: dict[int, str], failed: list[str]
) -> None:
    form = _critical_form()
    assert [q.text for q in failed_critical(form, answers)] == failed
    assert compute_score(form, answers) == 0.0
    plain = compute_score(_plain_form(), answers)  # the same answers without critical questions
    assert plain is not None and plain > 0


@pytest.mark.parametrize(
    "answers",
    [
        {0: "yes", 1: "na", 10: "yes", 11: "na"},  # n.a. never fails
        {0: "no", 1: "1", 10: "no", 11: "yes"},  # a non-critical "no", critical ones passed (1 > 0)
    ],
)
def test_critical_questions_passed_or_not_applicable_score_as_usual(answers: dict[int, str]) -> None:
    form = _critical_form()
    assert failed_critical(form, answers) == ()
    score = compute_score(form, answers)
    assert score is not None and score > 0
    assert score == pytest.approx(compute_score(_plain_form(), answers))


# --- forms and evaluations ------------------------------------------------------------------------


def test_only_admins_create_forms_and_new_versions_retire_old_ones(
    db: Database, people: dict[str, Principal]
) -> None:
    for role in ("agent", "coach", "compliance"):
        with pytest.raises(PermissionDenied, match="may not manage settings"):
            create_form(db, people[role], "Service call", SECTIONS)
    first = _form(db, people)
    second = _form(db, people)
    assert (first.version, second.version) == (1, 2)
    assert [f.version for f in list_forms(db, people["agent"])] == [2]
    assert [f.version for f in list_forms(db, people["coach"], include_inactive=True)] == [2, 1]
    assert second.sections[0].questions[1] == QuestionSpec(
        "States purpose", "points", 4.0, 3.0, second.sections[0].questions[1].id
    )


@pytest.mark.parametrize(
    ("sections", "message"),
    [
        ((), "has no sections"),
        ((SectionSpec("Empty", ()),), "section 'Empty' has no questions"),
        ((SectionSpec("S", (QuestionSpec("q", weight=0),)),), "weight and max points must be above 0"),
        ((SectionSpec("S", (QuestionSpec("q", kind="stars"),)),), "question kind 'stars'"),  # type: ignore[arg-type]
    ],
)
def test_bad_forms_are_refused(
    db: Database, people: dict[str, Principal], sections: tuple[SectionSpec, ...], message: str
) -> None:
    with pytest.raises(InvalidValue, match=message):
        create_form(db, people["admin"], "Bad", sections)
    assert list_forms(db, people["admin"], include_inactive=True) == []


def test_evaluation_flow_from_draft_to_dispute(
    db: Database, people: dict[str, Principal], calls: dict[str, int]
) -> None:
    form = _form(db, people)
    coach, agent = people["coach"], people["agent"]
    with pytest.raises(PermissionDenied, match="may not score calls"):
        start_evaluation(db, agent, calls["emma"], form.id)

    draft = start_evaluation(db, coach, calls["emma"], form.id)
    assert (
        start_evaluation(db, coach, calls["emma"], form.id).summary.id == draft.summary.id
    )  # a rerun continues
    assert (draft.summary.status, draft.summary.agent, draft.summary.score) == ("draft", "Alice", None)
    partial = save_answers(
        db, coach, draft.summary.id, {form.sections[1].questions[0].id: AnswerInput("yes")}
    )
    assert partial.summary.score == 100.0
    with pytest.raises(InvalidValue, match="1 question|3 question"):
        submit_evaluation(db, coach, draft.summary.id)
    assert list_evaluations(db, agent) == []  # drafts stay with the coach

    saved = save_answers(db, coach, draft.summary.id, _answers(form, "yes", "2", "yes", "no"))
    assert saved.summary.score == pytest.approx(100 * (0.625 + 1.5) / 4)
    with pytest.raises(PermissionDenied, match="another coach"):
        save_answers(db, people["compliance"], draft.summary.id, _answers(form, "no", "0", "no", "no"))
    submitted = submit_evaluation(db, coach, draft.summary.id)
    assert submitted.summary.status == "submitted" and submitted.summary.submitted_at is not None
    with pytest.raises(InvalidValue, match="submitted evaluations are final"):
        save_answers(db, coach, draft.summary.id, _answers(form, "no", "0", "no", "no"))

    # Only the evaluated agent answers: not a coach, not another agent.
    with pytest.raises(PermissionDenied, match="their own calls"):
        acknowledge_evaluation(db, coach, draft.summary.id)
    with pytest.raises(InvalidValue, match="needs a comment"):
        dispute_evaluation(db, agent, draft.summary.id, "  ")
    disputed = dispute_evaluation(db, agent, draft.summary.id, "The customer asked me not to use her name")
    assert (disputed.summary.status, disputed.summary.agent_comment) == (
        "disputed",
        "The customer asked me not to use her name",
    )
    with pytest.raises(InvalidValue, match="is disputed, not waiting"):
        acknowledge_evaluation(db, agent, draft.summary.id)
    assert get_evaluation(db, agent, draft.summary.id).answers[
        form.sections[0].questions[1].id
    ] == AnswerInput("2")

    actions = [r.action for r in reversed(list_audit(db, people["compliance"], action=None, limit=20))]
    assert actions[-5:] == [
        "evaluation_saved",
        "evaluation_saved",
        "evaluation_submitted",
        "evaluation_disputed",
        "evaluation_viewed",  # the agent reading it back
    ]


def test_a_critical_no_auto_fails_and_the_agent_reads_why_and_the_comments(
    db: Database, people: dict[str, Principal], calls: dict[str, int]
) -> None:
    critical = tuple(
        dataclasses.replace(
            s,
            questions=tuple(
                dataclasses.replace(q, critical=q.text == "Verifies identity") for q in s.questions
            ),
        )
        for s in SECTIONS
    )
    form = create_form(db, people["admin"], "Service call", critical)
    verifies = form.sections[1].questions[1]
    assert verifies.critical and not form.sections[1].questions[0].critical
    assert get_form(db, people["agent"], form.id) == form  # critical is part of the stored version
    coach, agent = people["coach"], people["agent"]

    draft = start_evaluation(db, coach, calls["emma"], form.id)
    answers = _answers(form, "yes", "4", "yes", "no")
    answers[verifies.id] = AnswerInput("no", "Skipped the date of birth")  # type: ignore[index]
    saved = save_answers(
        db, coach, draft.summary.id, answers, coach_comment="  Good tone; <b>verify</b> first  "
    )
    assert saved.summary.score == 0.0
    assert [q.text for q in saved.auto_fail] == ["Verifies identity"]
    submit_evaluation(db, coach, draft.summary.id)

    seen = get_evaluation(db, agent, draft.summary.id)
    assert seen.summary.score == 0.0 and [q.text for q in seen.auto_fail] == ["Verifies identity"]
    assert seen.summary.coach_comment == "Good tone; <b>verify</b> first"  # stored as written, trimmed
    assert seen.answers[verifies.id] == AnswerInput("no", "Skipped the date of birth")  # type: ignore[index]
    assert [e.coach_comment for e in list_evaluations(db, agent)] == ["Good tone; <b>verify</b> first"]
    acknowledged = acknowledge_evaluation(db, agent, draft.summary.id, "Understood")
    assert acknowledged.summary.coach_comment == "Good tone; <b>verify</b> first"
    assert acknowledged.auto_fail == seen.auto_fail
    saved_event = list_audit(db, people["compliance"], action="evaluation_saved", limit=1)[0]
    assert (saved_event.target, saved_event.details["overall_comment"]) == (
        f"evaluation:{draft.summary.id}",
        True,
    )

    # n.a. on the critical question does not fail: the rest scores as usual.
    other = start_evaluation(db, coach, calls["noah"], form.id)
    kept = save_answers(db, coach, other.summary.id, _answers(form, "yes", "4", "yes", "na"))
    assert kept.summary.score == 100.0 and kept.auto_fail == ()
    assert kept.summary.coach_comment is None
    # None leaves the overall comment alone; a blank one clears it.
    save_answers(db, coach, other.summary.id, {}, coach_comment="Well done")
    assert save_answers(db, coach, other.summary.id, {}).summary.coach_comment == "Well done"
    assert save_answers(db, coach, other.summary.id, {}, coach_comment="  ").summary.coach_comment is None
    with pytest.raises(InvalidValue, match="overall comment"):
        save_answers(db, coach, other.summary.id, {}, coach_comment="x" * (COMMENT_MAX_CHARS + 1))


def test_agents_see_only_their_own_evaluations(
    db: Database, people: dict[str, Principal], calls: dict[str, int]
) -> None:
    form = _form(db, people)
    coach = people["coach"]
    for call in ("emma", "bob"):
        evaluation = start_evaluation(db, coach, calls[call], form.id)
        save_answers(db, coach, evaluation.summary.id, _answers(form, "yes", "4", "yes", "yes"))
        submit_evaluation(db, coach, evaluation.summary.id)
    bobs = list_evaluations(db, coach, recording_id=calls["bob"])[0]

    assert [e.agent for e in list_evaluations(db, people["agent"])] == ["Alice"]
    assert sorted(e.agent for e in list_evaluations(db, coach)) == ["Alice", "Bob"]
    with pytest.raises(PermissionDenied, match="only see submitted evaluations of their own calls"):
        get_evaluation(db, people["agent"], bobs.id)
    with pytest.raises(PermissionDenied):
        acknowledge_evaluation(db, people["agent"], bobs.id)
    unlinked = Principal(people["agent"].user_id, "agent@example.com", "agent", None)
    assert list_evaluations(db, unlinked) == []


def test_reading_evaluations_is_audited_once_per_evaluation_a_page_keeps(
    db: Database, people: dict[str, Principal], calls: dict[str, int]
) -> None:
    """An evaluation is personal data about its agent: listing and opening one are logged with
    the evaluations' ids (never the answers), about the agent when they share one; a page passes
    the ids it logged already, so its reruns log nothing new."""
    form = _form(db, people)
    coach, agent = people["coach"], people["agent"]
    ids = {}
    for call in ("emma", "bob"):
        evaluation = start_evaluation(db, coach, calls[call], form.id)
        save_answers(db, coach, evaluation.summary.id, _answers(form, "yes", "4", "yes", "yes"))
        submit_evaluation(db, coach, evaluation.summary.id)
        ids[call] = evaluation.summary.id

    def logged(action: str) -> list[AuditEntry]:
        return list_audit(db, people["compliance"], action=action, limit=50)

    listed = list_evaluations(db, coach)
    (entry,) = logged("evaluations_listed")
    assert entry.username == coach.username and entry.target is None  # two agents
    assert sorted(entry.details["evaluations"]) == sorted(ids.values())
    assert "answers" not in entry.details
    seen: set[int] = set()
    list_evaluations(db, agent, audited=seen)
    list_evaluations(db, agent, audited=seen)  # a rerun
    newest = logged("evaluations_listed")[0]
    assert len(logged("evaluations_listed")) == 2 and newest.username == agent.username
    assert newest.details["evaluations"] == [ids["emma"]] and newest.target == f"agent:{listed[-1].agent_id}"
    viewed: set[int] = set()
    for _ in range(3):
        get_evaluation(db, agent, ids["emma"], viewed)
    (opened,) = logged("evaluation_viewed")
    assert opened.details == {"evaluations": [ids["emma"]], "about": opened.details["about"]}
    get_evaluation(db, coach, ids["bob"])  # no set: every read is logged
    get_evaluation(db, coach, ids["bob"])
    assert len(logged("evaluation_viewed")) == 3
    with pytest.raises(PermissionDenied):
        get_evaluation(db, agent, ids["bob"], viewed)
    assert len(logged("evaluation_viewed")) == 3 and viewed == {ids["emma"]}  # a refusal reads nothing
    assert verify_audit_chain(db).ok


def test_evaluating_a_call_without_agent_is_refused(
    db: Database, people: dict[str, Principal], blobs: BlobStore, make_recording: MakeRecording
) -> None:
    recording_id = ingest_recording(db, make_recording(seed=9), blobs, "NL").recording_id
    with pytest.raises(InvalidValue, match=f"recording {recording_id} names no agent"):
        start_evaluation(db, people["coach"], recording_id, _form(db, people).id)


def test_comments_are_pinned_to_a_moment(
    db: Database, people: dict[str, Principal], calls: dict[str, int]
) -> None:
    with pytest.raises(PermissionDenied, match="may not comment calls"):
        add_call_comment(db, people["agent"], calls["emma"], 1.0, "nice")
    with pytest.raises(InvalidValue, match="lasts 2.0 s"):
        add_call_comment(db, people["coach"], calls["emma"], 5.0, "too late")
    add_call_comment(db, people["coach"], calls["emma"], 1.5, "Good empathy here")
    add_call_comment(db, people["admin"], calls["emma"], 0.2, "  Greeting  ")
    comments = list_call_comments(db, people["coach"], calls["emma"])
    assert [(c.at_seconds, c.author, c.text, c.visibility) for c in comments] == [
        (0.2, "admin@example.com", "Greeting", "coaches"),
        (1.5, "coach@example.com", "Good empathy here", "coaches"),
    ]


def test_only_its_author_edits_or_deletes_a_comment_and_both_are_audited(
    db: Database, people: dict[str, Principal], calls: dict[str, int]
) -> None:
    mine = add_call_comment(db, people["coach"], calls["emma"], 1.5, "Good empathy here")
    theirs = add_call_comment(db, people["admin"], calls["emma"], 0.2, "Greeting")
    for other in ("admin", "compliance"):
        with pytest.raises(PermissionDenied, match="only its author"):
            edit_call_comment(db, people[other], mine.id, "rewritten", "coaches")
        with pytest.raises(PermissionDenied, match="only its author"):
            delete_call_comment(db, people[other], mine.id)
    with pytest.raises(InvalidValue, match="needs text"):
        edit_call_comment(db, people["coach"], mine.id, "   ", "coaches")

    edited = edit_call_comment(db, people["coach"], mine.id, " Good empathy; slow down ", "agent")
    assert (edited.text, edited.visibility, edited.at_seconds) == ("Good empathy; slow down", "agent", 1.5)
    assert edited.edited_at is not None and mine.edited_at is None
    delete_call_comment(db, people["admin"], theirs.id)
    assert [(c.id, c.text) for c in list_call_comments(db, people["coach"], calls["emma"])] == [
        (mine.id, "Good empathy; slow down")
    ]
    with pytest.raises(NotFound):
        delete_call_comment(db, people["admin"], theirs.id)
    logged = [(r.action, r.details) for r in list_audit(db, people["admin"], limit=10)]
    assert ("comment_edited", {"comment": mine.id, "visibility": "agent"}) in logged
    assert ("comment_deleted", {"comment": theirs.id, "at_seconds": 0.2}) in logged
    assert "slow down" not in str(logged)  # what was written stays out of the log


def test_an_agent_reads_only_comments_shared_with_them_on_their_own_calls(
    db: Database, people: dict[str, Principal], calls: dict[str, int]
) -> None:
    add_call_comment(db, people["coach"], calls["emma"], 0.5, "Talks over the customer")
    add_call_comment(db, people["coach"], calls["emma"], 1.0, "Well explained", visibility="agent")
    add_call_comment(db, people["coach"], calls["bob"], 1.0, "Bob: nice close", visibility="agent")
    with pytest.raises(InvalidValue, match="visibility 'everyone' is not one of coaches, agent"):
        add_call_comment(db, people["coach"], calls["emma"], 1.0, "x", visibility="everyone")  # type: ignore[arg-type]

    def texts(who: Principal, call: str) -> list[str]:
        return [c.text for c in list_call_comments(db, who, calls[call])]

    assert texts(people["agent"], "emma") == ["Well explained"]  # Alice's call
    assert texts(people["agent"], "bob") == []  # shared with Bob, not with Alice
    unlinked = Principal(people["agent"].user_id, "agent@example.com", "agent", None)
    assert texts(unlinked, "emma") == []
    for role in ("coach", "compliance", "admin"):
        assert texts(people[role], "emma") == ["Talks over the customer", "Well explained"]


def test_agent_overview_by_week(db: Database, people: dict[str, Principal], calls: dict[str, int]) -> None:
    form = _form(db, people)
    evaluation = start_evaluation(db, people["coach"], calls["emma"], form.id)
    save_answers(db, people["coach"], evaluation.summary.id, _answers(form, "yes", "4", "yes", "no"))
    submit_evaluation(db, people["coach"], evaluation.summary.id)  # today, weeks after the call
    with pytest.raises(PermissionDenied, match="may not view agent overviews"):
        agent_overview(db, people["agent"], people["agent"].agent_id, date(2026, 11, 1), date(2026, 11, 30))  # type: ignore[arg-type]

    overview = agent_overview(
        db,
        people["coach"],
        people["agent"].agent_id,  # type: ignore[arg-type]
        date(2026, 10, 28),
        date(2026, 11, 16),
    )

    weeks = {w.week_start: w for w in overview.weeks}
    assert overview.agent == "Alice" and list(weeks)[0] == date(2026, 10, 26)
    emma_week, noah_week = weeks[date(2026, 11, 2)], weeks[date(2026, 11, 9)]
    # Emma's call: agent 1.0 s of 2.3 s speech; nobody speaks 1.8-2.0; the customer interrupts once.
    assert (emma_week.calls, emma_week.transcribed_calls) == (1, 1)
    assert emma_week.talk_ratio == pytest.approx(1.0 / 2.3)
    assert emma_week.silence_share == pytest.approx(0.1)
    assert (emma_week.customer_interruptions, emma_week.agent_interruptions) == (1, 0)
    assert noah_week.talk_ratio == pytest.approx(0.5) and noah_week.customer_interruptions == 0
    assert weeks[date(2026, 11, 16)].calls == 0 and weeks[date(2026, 11, 16)].talk_ratio is None
    # Counted in the week of the call it scores (Emma's), though submitted weeks later.
    scored = [w for w in overview.weeks if w.evaluations]
    assert [(w.week_start, w.average_score) for w in scored] == [
        (date(2026, 11, 2), pytest.approx(100 * (1 + 1.5) / 4))
    ]
    with pytest.raises(InvalidValue, match="backwards"):
        agent_overview(db, people["coach"], 1, date(2026, 11, 2), date(2026, 11, 1))


# --- guarded reads ----------------------------------------------------------------------------------


def _last_event(db: Database) -> AuditEntry:
    with read_scope(db) as session:
        return session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).one()


def test_every_role_replays_a_call_and_it_is_audited(
    db: Database, blobs: BlobStore, people: dict[str, Principal], calls: dict[str, int]
) -> None:
    for role, principal in people.items():
        replay = guarded.replay_call(db, principal, calls["bob"], blobs)
        assert replay.audio_path.is_file() and replay.transcript is not None, role
        with read_scope(db) as session:
            last_two = session.execute(
                select(AuditEntry.action, AuditEntry.user_id, AuditEntry.target)
                .order_by(AuditEntry.id.desc())
                .limit(2)
            ).all()
        target = f"recording:{calls['bob']}"
        assert last_two == [
            ("transcript_viewed", principal.user_id, target),
            ("call_played", principal.user_id, target),
        ]
    transcript = guarded.view_transcript(db, people["agent"], calls["emma"])
    assert transcript.utterances[0].text == "your refund is approved"
    assert _last_event(db).action == "transcript_viewed"


def test_listing_all_calls_needs_coach(
    db: Database, people: dict[str, Principal], calls: dict[str, int]
) -> None:
    with pytest.raises(PermissionDenied, match="may not view all calls"):
        guarded.list_calls(db, people["agent"])
    assert len(guarded.list_calls(db, people["coach"])) == 3


def test_agents_search_only_inside_one_customer(
    db: Database, people: dict[str, Principal], calls: dict[str, int]
) -> None:
    agent = people["agent"]
    for role in ("agent", "coach"):
        with pytest.raises(PermissionDenied, match="only inside one customer's history"):
            guarded.search(db, people[role], "refund", SearchFilters())
    everywhere = guarded.search(db, people["compliance"], "refund", SearchFilters())
    assert {h.recording_id for h in everywhere.hits} == set(calls.values())

    with read_scope(db) as session:
        emma_id = session.scalar(
            select(Thread.customer_id)
            .join(Recording, Recording.thread_id == Thread.id)
            .where(Recording.id == calls["emma"])
        )
    # Looking for Noah's words inside Emma's history finds nothing, even with a filter naming Noah.
    inside = guarded.search(db, agent, "refund", SearchFilters(customer="Noah"), customer_id=emma_id)
    assert {h.recording_id for h in inside.hits} == {calls["emma"], calls["bob"]}
    event = _last_event(db)
    assert (event.action, event.user_id, event.target) == ("search_run", agent.user_id, f"customer:{emma_id}")
    assert event.details["query"] == "refund" and event.details["filters"]["customer"] == "emma@example.com"
    assert event.details["hits"] == 3  # two utterances of Emma's call with Alice, one with Bob


def test_exports_need_compliance_and_are_audited(
    db: Database, people: dict[str, Principal], calls: dict[str, int]
) -> None:
    for role in ("agent", "coach"):
        with pytest.raises(PermissionDenied, match="may not export"):
            guarded.export_transcript(db, people[role], calls["emma"], "txt")
    with pytest.raises(InvalidValue, match="export format 'docx' is not one of"):
        guarded.export_transcript(db, people["compliance"], calls["emma"], "docx")
    vtt = guarded.export_transcript(db, people["compliance"], calls["emma"], "vtt")
    assert vtt.startswith("WEBVTT") and "your refund is approved" in vtt
    event = _last_event(db)
    assert (event.action, event.target, event.details["format"]) == (
        "export",
        f"recording:{calls['emma']}",
        "vtt",
    )
    assert verify_audit_chain(db).ok


def test_only_reviewers_correct_speakers_and_it_is_audited(
    db: Database, people: dict[str, Principal], calls: dict[str, int]
) -> None:
    with pytest.raises(PermissionDenied):
        guarded.correct_speaker(db, people["agent"], calls["emma"], "S1", "customer", "Emma")
    label = guarded.view_transcript(db, people["coach"], calls["emma"]).speakers[0].label
    guarded.correct_speaker(db, people["coach"], calls["emma"], label, "customer", "Emma")
    corrected = guarded.view_transcript(db, people["coach"], calls["emma"]).speakers[0]
    assert (corrected.role, corrected.display_name) == ("customer", "Emma")
    with read_scope(db) as session:
        event = session.scalars(select(AuditEntry).where(AuditEntry.action == "speaker_corrected")).one()
    assert (event.user_id, event.target) == (people["coach"].user_id, f"recording:{calls['emma']}")
    assert event.details == {
        "about": "call call-0.wav with Emma Stone, 2026-11-02 09:00 UTC",
        "speaker": label,
        "role": "customer",
        "name": "Emma",
    }


# --- length limits ------------------------------------------------------------------------------


def test_texts_over_their_limit_are_refused_and_nothing_changes(
    db: Database, people: dict[str, Principal], calls: dict[str, int]
) -> None:
    """A pasted 20,000-character text once flooded every reviewer's panel; now each service says the
    limit the page's input also enforces, and stores nothing."""
    coach, agent, admin = people["coach"], people["agent"], people["admin"]
    flood = "x" * 20_000
    with pytest.raises(InvalidValue, match="20,000 characters long; at most 2,000"):
        add_call_comment(db, coach, calls["emma"], 1.0, flood)
    add_call_comment(db, coach, calls["emma"], 1.0, "y" * COMMENT_MAX_CHARS)  # the limit itself is fine
    assert [len(c.text) for c in list_call_comments(db, coach, calls["emma"])] == [COMMENT_MAX_CHARS]

    for sections, name in [
        (SECTIONS, "n" * (FORM_NAME_MAX_CHARS + 1)),
        ((SectionSpec("t" * (SECTION_TITLE_MAX_CHARS + 1), SECTIONS[0].questions),), "Form"),
        ((SectionSpec("Opening", (QuestionSpec("q" * (QUESTION_MAX_CHARS + 1)),)),), "Form"),
    ]:
        with pytest.raises(InvalidValue, match="characters long; at most"):
            create_form(db, admin, name, sections)
    assert list_forms(db, admin, include_inactive=True) == []

    form = _form(db, people)
    draft = start_evaluation(db, coach, calls["emma"], form.id)
    question = form.sections[0].questions[0].id
    assert question is not None
    with pytest.raises(InvalidValue, match="at most 2,000"):
        save_answers(db, coach, draft.summary.id, {question: AnswerInput("yes", flood)})
    assert get_evaluation(db, coach, draft.summary.id).answers == {}
    save_answers(db, coach, draft.summary.id, _answers(form, "yes", "2", "yes", "no"))
    submit_evaluation(db, coach, draft.summary.id)
    with pytest.raises(InvalidValue, match="at most 2,000"):
        dispute_evaluation(db, agent, draft.summary.id, flood)
    assert get_evaluation(db, agent, draft.summary.id).summary.status == "submitted"

    label = guarded.view_transcript(db, coach, calls["emma"]).speakers[0].label
    with pytest.raises(InvalidValue, match=f"speaker {label} is 101 characters long; at most 100"):
        guarded.correct_speaker(
            db, coach, calls["emma"], label, "customer", "e" * (SPEAKER_NAME_MAX_CHARS + 1)
        )
    assert guarded.view_transcript(db, coach, calls["emma"]).speakers[0].display_name is None
