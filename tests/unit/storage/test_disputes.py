"""Disputes (``storage.disputes``) on SQLite and PostgreSQL: the exchange from the agent's dispute to
a coach's closing, who waits for whom, the role checks, wrong states, text limits and the audit."""

from __future__ import annotations

import pytest

from recorder.types import CallMetadata
from storage import users
from storage.access import Principal
from storage.audit import AuditAction, AuditRecord, list_audit, verify_audit_chain
from storage.blobs import BlobStore
from storage.db import Database
from storage.disputes import (
    AnswerChange,
    Side,
    answer_dispute,
    count_disputes_waiting_for,
    dispute_history,
    open_disputes,
    reply_to_dispute,
    rescore_disputed,
    resolve_dispute,
    uphold_dispute,
)
from storage.errors import InvalidValue, NotFound, PermissionDenied
from storage.quality import (
    AnswerInput,
    EvaluationView,
    QuestionSpec,
    SectionSpec,
    create_form,
    dispute_evaluation,
    get_evaluation,
    save_answers,
    start_evaluation,
    submit_evaluation,
)
from storage.services import ingest_recording
from tests.unit.storage.conftest import PASSWORD, MakeRecording

SECTIONS = (
    SectionSpec("Opening", (QuestionSpec("Greets by name"), QuestionSpec("Verifies identity"))),
    SectionSpec("Resolution", (QuestionSpec("Solves the problem", "points", max_points=4),)),
)
DISPUTE = "The customer asked me not to use her name"


def _evaluation(
    db: Database, people: dict[str, Principal], blobs: BlobStore, make_recording: MakeRecording, seed: int = 0
) -> EvaluationView:
    """A submitted evaluation of a call of Alice's (the agent account's): greets no, verifies yes
    (Opening 0.5), solves 2 of 4 (Resolution 0.5): score 50."""
    metadata = CallMetadata(agent="Alice", customer_name="Emma Stone")
    recording_id = ingest_recording(
        db, make_recording(seed=seed, metadata=metadata), blobs, "NL"
    ).recording_id
    forms = create_form(db, people["admin"], "Service call", SECTIONS)
    coach = people["coach"]
    draft = start_evaluation(db, coach, recording_id, forms.id)
    save_answers(db, coach, draft.summary.id, _answers(draft, "no", "yes", "2"))
    return submit_evaluation(db, coach, draft.summary.id)


def _answers(view: EvaluationView, *values: str) -> dict[int, AnswerInput]:
    questions = [q.id for s in view.form.sections for q in s.questions]
    return {q: AnswerInput(v) for q, v in zip(questions, values, strict=True)}  # type: ignore[misc]


@pytest.fixture
def evaluation(
    db: Database, people: dict[str, Principal], blobs: BlobStore, make_recording: MakeRecording
) -> EvaluationView:
    return _evaluation(db, people, blobs, make_recording)


def _waiting(db: Database, who: Principal) -> list[tuple[int, Side]]:
    return [(d.evaluation.id, d.waiting_for) for d in open_disputes(db, who) if d.your_turn]


def _actions(db: Database, people: dict[str, Principal], count: int) -> list[str]:
    """The last ``count`` changes logged (reads of the evaluation between them left out)."""
    logged = reversed(list_audit(db, people["compliance"], action=None, limit=100))
    reads = ("evaluation_viewed", "evaluations_listed", "disputes_listed", "dispute_viewed")
    return [r.action for r in logged if r.action not in reads][-count:]


def test_a_dispute_goes_back_and_forth_is_rescored_and_resolved(
    db: Database, people: dict[str, Principal], evaluation: EvaluationView
) -> None:
    coach, agent, compliance = people["coach"], people["agent"], people["compliance"]
    evaluation_id = evaluation.summary.id
    assert evaluation.summary.score == pytest.approx(50.0)
    assert _waiting(db, coach) == _waiting(db, agent) == []

    dispute_evaluation(db, agent, evaluation_id, DISPUTE)
    assert _waiting(db, coach) == _waiting(db, compliance) == [(evaluation_id, "coach")]  # any coach
    assert _waiting(db, agent) == []

    answer_dispute(db, coach, evaluation_id, "Using the name is in the script; did she ask on the call?")
    assert _waiting(db, coach) == []
    assert _waiting(db, agent) == [(evaluation_id, "agent")]
    reply_to_dispute(db, agent, evaluation_id, "Yes, at 0:40")
    assert _waiting(db, coach) == [(evaluation_id, "coach")]

    greets = evaluation.form.sections[0].questions[0].id
    assert greets is not None
    rescored = rescore_disputed(db, compliance, evaluation_id, {greets: AnswerInput("na")}, "She did ask")
    assert (rescored.old_score, rescored.new_score) == (pytest.approx(50.0), pytest.approx(75.0))
    assert rescored.changes == (AnswerChange("Greets by name", "no", "na"),)
    view = get_evaluation(db, agent, evaluation_id)
    assert view.summary.score == pytest.approx(75.0) and view.answers[greets] == AnswerInput("na")
    assert view.summary.status == "disputed"  # open until a coach resolves it
    assert _waiting(db, agent) == [(evaluation_id, "agent")]

    resolved = resolve_dispute(db, coach, evaluation_id)
    assert (resolved.kind, resolved.text) == ("resolved", "")
    assert get_evaluation(db, agent, evaluation_id).summary.status == "resolved"
    assert _waiting(db, coach) == _waiting(db, agent) == []

    history = dispute_history(db, agent, evaluation_id)
    assert [(m.kind, m.side, m.author) for m in history] == [
        ("dispute", "agent", "agent@example.com"),
        ("answer", "coach", "coach@example.com"),
        ("reply", "agent", "agent@example.com"),
        ("rescore", "coach", "compliance@example.com"),
        ("resolved", "coach", "coach@example.com"),
    ]
    assert history[0].text == DISPUTE
    assert [m.created_at for m in history] == sorted(m.created_at for m in history)
    assert history[3].old_score == pytest.approx(50.0)  # the score before stays in the history

    assert _actions(db, people, 5) == [
        "evaluation_disputed",
        "dispute_answered",
        "dispute_replied",
        "evaluation_rescored",
        "dispute_resolved",
    ]
    rescore_event = list_audit(db, compliance, action="evaluation_rescored", limit=1)[0]
    assert rescore_event.details["old_score"] == pytest.approx(50.0)
    assert rescore_event.details["questions"] == [str(greets)]
    assert "She did ask" not in str(rescore_event.details)  # the audit keeps what changed, not the text
    assert verify_audit_chain(db).ok


def test_upholding_keeps_the_score_and_closes_the_dispute(
    db: Database, people: dict[str, Principal], evaluation: EvaluationView
) -> None:
    coach, agent = people["coach"], people["agent"]
    evaluation_id = evaluation.summary.id
    with pytest.raises(InvalidValue, match="is submitted: it is not disputed, so it cannot be answered"):
        answer_dispute(db, coach, evaluation_id, "Nothing to answer yet")
    dispute_evaluation(db, agent, evaluation_id, DISPUTE)
    with pytest.raises(InvalidValue, match="was not re-scored: re-score it first, or uphold"):
        resolve_dispute(db, coach, evaluation_id, "Done")
    upheld = uphold_dispute(db, coach, evaluation_id, "The script asks for the name")
    assert upheld.kind == "upheld"
    summary = get_evaluation(db, agent, evaluation_id).summary
    assert (summary.status, summary.score) == ("upheld", pytest.approx(50.0))
    assert _waiting(db, coach) == _waiting(db, agent) == []

    for act in (
        lambda: reply_to_dispute(db, agent, evaluation_id, "But"),
        lambda: answer_dispute(db, coach, evaluation_id, "Again"),
        lambda: uphold_dispute(db, coach, evaluation_id, "Again"),
        lambda: rescore_disputed(db, coach, evaluation_id, _answers(evaluation, "yes", "yes", "4"), "x"),
    ):
        with pytest.raises(InvalidValue, match="is upheld: its dispute is closed"):
            act()
    assert len(dispute_history(db, agent, evaluation_id)) == 2
    assert _actions(db, people, 2) == ["evaluation_disputed", "dispute_upheld"]


def test_a_rescored_dispute_is_resolved_not_upheld_and_a_rescore_must_change_something(
    db: Database, people: dict[str, Principal], evaluation: EvaluationView
) -> None:
    coach, agent = people["coach"], people["agent"]
    evaluation_id = evaluation.summary.id
    dispute_evaluation(db, agent, evaluation_id, DISPUTE)
    with pytest.raises(InvalidValue, match="changes no answer"):
        rescore_disputed(db, coach, evaluation_id, _answers(evaluation, "no", "yes", "2"), "Same")
    with pytest.raises(InvalidValue, match="takes 0 to 4 points"):
        rescore_disputed(db, coach, evaluation_id, _answers(evaluation, "yes", "yes", "9"), "Too many")
    assert get_evaluation(db, coach, evaluation_id).summary.score == pytest.approx(50.0)
    assert len(dispute_history(db, coach, evaluation_id)) == 1  # refused steps leave no trace

    rescore_disputed(db, coach, evaluation_id, _answers(evaluation, "yes", "yes", "2"), "Greeted after all")
    with pytest.raises(InvalidValue, match="was re-scored in this dispute: resolve it"):
        uphold_dispute(db, coach, evaluation_id, "Stands")
    resolve_dispute(db, coach, evaluation_id, "Thanks for flagging it")
    assert get_evaluation(db, agent, evaluation_id).summary.score == pytest.approx(75.0)


def test_each_side_acts_only_as_itself(
    db: Database,
    people: dict[str, Principal],
    evaluation: EvaluationView,
    blobs: BlobStore,
    make_recording: MakeRecording,
) -> None:
    coach, agent = people["coach"], people["agent"]
    evaluation_id = evaluation.summary.id
    dispute_evaluation(db, agent, evaluation_id, DISPUTE)
    # The agent cannot judge: every coach step needs the right to score calls (checked first).
    for act in (
        lambda: answer_dispute(db, agent, evaluation_id, ""),
        lambda: answer_dispute(db, agent, evaluation_id, "I win"),
        lambda: uphold_dispute(db, agent, evaluation_id, "I win"),
        lambda: resolve_dispute(db, agent, evaluation_id),
        lambda: rescore_disputed(db, agent, evaluation_id, _answers(evaluation, "yes", "yes", "4"), "I win"),
    ):
        with pytest.raises(PermissionDenied, match="may not score calls"):
            act()
    with pytest.raises(PermissionDenied, match="only reply to disputes about their own calls"):
        reply_to_dispute(db, coach, evaluation_id, "As the agent")
    bob_account = users.create_user(
        db, "bob@example.com", PASSWORD, "agent", agent_name="Bob", actor=None, create_agent=True
    )
    bob = Principal(bob_account.id, bob_account.username, "agent", bob_account.agent_id)
    with pytest.raises(PermissionDenied, match="only reply to disputes about their own calls"):
        reply_to_dispute(db, bob, evaluation_id, "Me too")
    with pytest.raises(PermissionDenied, match="only read disputes about their own calls"):
        dispute_history(db, bob, evaluation_id)
    assert _waiting(db, bob) == []
    # A coach who is also the evaluated agent answers as the agent, never as the judge.
    coach_alice = Principal(coach.user_id, coach.username, "coach", agent.agent_id)
    with pytest.raises(PermissionDenied, match="may not judge a dispute about their own call"):
        uphold_dispute(db, coach_alice, evaluation_id, "Fine by me")
    assert _waiting(db, coach_alice) == []
    with pytest.raises(NotFound, match="no evaluation with id 9999"):
        answer_dispute(db, coach, 9999, "Hello")
    assert len(dispute_history(db, coach, evaluation_id)) == 1


def test_texts_are_required_and_limited(
    db: Database, people: dict[str, Principal], evaluation: EvaluationView
) -> None:
    coach, agent = people["coach"], people["agent"]
    evaluation_id = evaluation.summary.id
    dispute_evaluation(db, agent, evaluation_id, DISPUTE)
    flood = "x" * 20_000
    for act in (answer_dispute, uphold_dispute):
        with pytest.raises(InvalidValue, match="needs text"):
            act(db, coach, evaluation_id, "   ")
        with pytest.raises(InvalidValue, match="20,000 characters long; at most 2,000"):
            act(db, coach, evaluation_id, flood)
    with pytest.raises(InvalidValue, match="at most 2,000"):
        reply_to_dispute(db, agent, evaluation_id, flood)
    with pytest.raises(InvalidValue, match="the reason for re-scoring .* needs text"):
        rescore_disputed(db, coach, evaluation_id, _answers(evaluation, "yes", "yes", "4"), "")
    assert len(dispute_history(db, coach, evaluation_id)) == 1
    answer_dispute(db, coach, evaluation_id, "y" * 2000)  # the limit itself is fine


def _two_disputed(
    db: Database,
    people: dict[str, Principal],
    evaluation: EvaluationView,
    blobs: BlobStore,
    make_recording: MakeRecording,
) -> EvaluationView:
    """A second evaluation; the agent disputes both, the coach answers the second (the agent's turn
    there, the coach's on the first). Returns the second."""
    second = _evaluation(db, people, blobs, make_recording, seed=1)
    for view in (evaluation, second):
        dispute_evaluation(db, people["agent"], view.summary.id, DISPUTE)
    answer_dispute(db, people["coach"], second.summary.id, "Let me listen again")
    return second


def test_the_waiting_lists_hold_each_users_own_share(
    db: Database,
    people: dict[str, Principal],
    evaluation: EvaluationView,
    blobs: BlobStore,
    make_recording: MakeRecording,
) -> None:
    coach, agent = people["coach"], people["agent"]
    second = _two_disputed(db, people, evaluation, blobs, make_recording)
    third = _evaluation(db, people, blobs, make_recording, seed=2)
    dispute_evaluation(db, agent, third.summary.id, DISPUTE)
    uphold_dispute(db, coach, third.summary.id, "Stands")
    assert _waiting(db, coach) == [(evaluation.summary.id, "coach")]
    assert _waiting(db, agent) == [(second.summary.id, "agent")]
    (waiting,) = [d for d in open_disputes(db, agent) if d.your_turn]
    assert (waiting.messages, waiting.evaluation.status) == (2, "disputed")
    assert _waiting(db, people["admin"]) == [(evaluation.summary.id, "coach")]
    # Every open dispute for the parties to see, whoever is to act next.
    first, second_id = evaluation.summary.id, second.summary.id
    assert [(d.evaluation.id, d.your_turn) for d in open_disputes(db, coach)] == [
        (first, True),
        (second_id, False),
    ]
    assert [(d.evaluation.id, d.your_turn) for d in open_disputes(db, agent)] == [
        (first, False),
        (second_id, True),
    ]


def test_reading_disputes_is_audited_by_ids_once_per_session_and_the_menus_count_is_not(
    db: Database,
    people: dict[str, Principal],
    evaluation: EvaluationView,
    blobs: BlobStore,
    make_recording: MakeRecording,
) -> None:
    coach, agent = people["coach"], people["agent"]
    second = _two_disputed(db, people, evaluation, blobs, make_recording)

    def logged(action: AuditAction) -> list[AuditRecord]:
        return list_audit(db, people["compliance"], action=action, limit=50)

    assert count_disputes_waiting_for(db, coach) == 1 and count_disputes_waiting_for(db, agent) == 1
    assert logged("disputes_listed") == []  # a count reads no one's data
    listed: set[int] = set()
    for _ in range(2):  # a rerun of the page logs nothing new
        open_disputes(db, coach, listed)
    (entry,) = logged("disputes_listed")
    assert entry.username == coach.username
    assert sorted(entry.details["evaluations"]) == sorted([evaluation.summary.id, second.summary.id])
    assert "text" not in entry.details and DISPUTE not in str(entry.details)
    open_disputes(db, agent)  # no set: logged each time
    assert logged("disputes_listed")[0].target == f"agent:{evaluation.summary.agent_id}"

    seen: set[int] = set()
    for _ in range(3):
        dispute_history(db, agent, second.summary.id, seen)
    (viewed,) = logged("dispute_viewed")
    assert viewed.details["evaluations"] == [second.summary.id] and seen == {second.summary.id}
    third = _evaluation(db, people, blobs, make_recording, seed=2)
    assert dispute_history(db, coach, third.summary.id) == []  # never disputed: nothing read, no row
    assert len(logged("dispute_viewed")) == 1
    assert verify_audit_chain(db).ok
