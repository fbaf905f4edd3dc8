"""Quality: scorecard forms, coaches' evaluations of calls, comments pinned to a moment, agent overviews
and the team view.

Scoring: each answered question gives a fraction (points / max points; yes 1, no 0); n.a. answers
and unanswered questions drop out. A section's score is the question-weighted mean of its fractions,
the call's score the section-weighted mean of the sections that have any scorable answer, times 100.
A critical question failed (yes/no answered "no", points given 0) makes the score 0 whatever the rest:
an "auto-fail". n.a. never fails.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal, TypeVar, get_args

from sqlalchemy import Row, Select, func, select, true
from sqlalchemy.orm import Session

from storage.access import Permission, Principal, allows, require
from storage.audit import AuditAction, append_event, record_read
from storage.audit_subjects import Subject
from storage.db import Database, read_scope, session_scope
from storage.errors import InvalidValue, NotFound, PermissionDenied
from storage.limits import (
    COMMENT_MAX_CHARS,
    FORM_NAME_MAX_CHARS,
    QUESTION_MAX_CHARS,
    SECTION_TITLE_MAX_CHARS,
    check_length,
)
from storage.models import (
    Agent,
    CallComment,
    Evaluation,
    EvaluationAnswer,
    EvaluationMessage,
    Recording,
    ScorecardForm,
    ScorecardQuestion,
    ScorecardSection,
    Speaker,
    Thread,
    Transcript,
    User,
    Utterance,
    as_utc,
)
from storage.services import _as_utc
from transcribe.metrics import CallMetrics, SpeechSpan, speech_metrics

__all__ = [
    "AgentOverview",
    "AnswerInput",
    "COMMENT_VISIBILITIES",
    "CallFigures",
    "EVALUATION_STATUSES",
    "CallCommentView",
    "CommentVisibility",
    "EvaluationStatus",
    "EvaluationSummary",
    "EvaluationView",
    "Form",
    "QuestionKind",
    "QuestionSpec",
    "SectionSpec",
    "TeamRow",
    "WeekStats",
    "acknowledge_evaluation",
    "add_call_comment",
    "agent_overview",
    "apply_answers",
    "compute_score",
    "failed_critical",
    "create_form",
    "dispute_evaluation",
    "get_evaluation",
    "get_form",
    "list_call_comments",
    "list_evaluations",
    "list_forms",
    "save_answers",
    "start_evaluation",
    "submit_evaluation",
    "team_view",
]

QuestionKind = Literal["points", "yes_no_na"]
# Who reads a comment besides those who may comment calls: nobody else ("coaches"), or also the agent
# who took the call ("agent"). Coaching notes are candid; sharing one with the agent is a choice.
CommentVisibility = Literal["coaches", "agent"]
COMMENT_VISIBILITIES: tuple[CommentVisibility, ...] = get_args(CommentVisibility)
# "disputed": the agent disputed it and the dispute is open; "upheld" and "resolved" close it with
# the score kept or changed (``storage.disputes``).
EvaluationStatus = Literal["draft", "submitted", "acknowledged", "disputed", "upheld", "resolved"]
EVALUATION_STATUSES: tuple[EvaluationStatus, ...] = get_args(EvaluationStatus)
_QUESTION_KINDS: tuple[QuestionKind, ...] = get_args(QuestionKind)
_NOT_APPLICABLE = "na"
_YES_NO = {"yes": 1.0, "no": 0.0}
_MAX_OVERVIEW_DAYS = 366
_T = TypeVar("_T")
_K = TypeVar("_K")
_F = TypeVar("_F", bound="CallFigures")


# --- forms -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuestionSpec:
    text: str
    kind: QuestionKind = "yes_no_na"
    max_points: float = 1.0  # for "points"; yes/no questions are worth 1
    weight: float = 1.0
    id: int | None = None  # set on questions read back from the database
    critical: bool = False  # failing it fails the whole evaluation (score 0)


@dataclass(frozen=True)
class SectionSpec:
    title: str
    questions: tuple[QuestionSpec, ...]
    weight: float = 1.0


@dataclass(frozen=True)
class Form:
    id: int
    name: str
    version: int
    active: bool
    sections: tuple[SectionSpec, ...]

    def question(self, question_id: int) -> QuestionSpec:
        for section in self.sections:
            for question in section.questions:
                if question.id == question_id:
                    return question
        raise NotFound(f"form {self.name!r} v{self.version} has no question {question_id}")


def create_form(db: Database, principal: Principal, name: str, sections: Sequence[SectionSpec]) -> Form:
    """A new form, or a new version of the form with that name (older versions become inactive but
    stay, since evaluations point at the exact questions they were scored on)."""
    require(principal, Permission.MANAGE_SETTINGS)
    name = name.strip()
    _check_form(name, sections)
    with session_scope(db) as session:
        previous = session.scalar(select(func.max(ScorecardForm.version)).where(ScorecardForm.name == name))
        for older in session.scalars(select(ScorecardForm).where(ScorecardForm.name == name)):
            older.active = False
        form = ScorecardForm(
            name=name, version=(previous or 0) + 1, active=True, created_by=principal.user_id
        )
        form.sections = [
            ScorecardSection(
                position=s_pos,
                title=section.title.strip(),
                weight=section.weight,
                questions=[
                    ScorecardQuestion(
                        position=q_pos,
                        text=question.text.strip(),
                        kind=question.kind,
                        max_points=question.max_points if question.kind == "points" else 1.0,
                        weight=question.weight,
                        critical=question.critical,
                    )
                    for q_pos, question in enumerate(section.questions)
                ],
            )
            for s_pos, section in enumerate(sections)
        ]
        session.add(form)
        session.flush()
        critical = sum(q.critical for s in sections for q in s.questions)
        append_event(
            session,
            principal,
            "form_created",
            f"form:{form.id}",
            {"name": name, "version": form.version, "critical_questions": critical},
        )
        return _form(form)


def _check_form(name: str, sections: Sequence[SectionSpec]) -> None:
    if not name:
        raise InvalidValue("a scorecard form needs a name")
    check_length("a scorecard form's name", name, FORM_NAME_MAX_CHARS)
    if not sections:
        raise InvalidValue(f"form {name!r} has no sections")
    for section in sections:
        where = f"form {name!r}, section {section.title!r}"
        if not section.title.strip():
            raise InvalidValue(f"form {name!r}: a section has no title")
        check_length(f"form {name!r}: a section title", section.title, SECTION_TITLE_MAX_CHARS)
        if section.weight <= 0:
            raise InvalidValue(f"{where}: weight must be above 0, not {section.weight}")
        if not section.questions:
            raise InvalidValue(f"{where} has no questions")
        for question in section.questions:
            if not question.text.strip():
                raise InvalidValue(f"{where}: a question has no text")
            check_length(f"{where}: a question", question.text, QUESTION_MAX_CHARS)
            if question.kind not in _QUESTION_KINDS:
                raise InvalidValue(
                    f"{where}: question kind {question.kind!r} is not one of {_QUESTION_KINDS}"
                )
            if question.weight <= 0 or question.max_points <= 0:
                raise InvalidValue(
                    f"{where}, question {question.text!r}: weight and max points must be above 0"
                )


def list_forms(db: Database, principal: Principal, include_inactive: bool = False) -> list[Form]:
    require(principal, Permission.VIEW_OWN_EVALUATIONS)
    query = select(ScorecardForm).order_by(ScorecardForm.name, ScorecardForm.version.desc())
    if not include_inactive:
        query = query.where(ScorecardForm.active)
    with read_scope(db) as session:
        return [_form(form) for form in session.scalars(query)]


def get_form(db: Database, principal: Principal, form_id: int) -> Form:
    require(principal, Permission.VIEW_OWN_EVALUATIONS)
    with read_scope(db) as session:
        return _form(_get(session, ScorecardForm, form_id, "scorecard form"))


def _form(form: ScorecardForm) -> Form:
    return Form(
        id=form.id,
        name=form.name,
        version=form.version,
        active=form.active,
        sections=tuple(
            SectionSpec(
                title=section.title,
                weight=section.weight,
                questions=tuple(
                    QuestionSpec(q.text, q.kind, q.max_points, q.weight, q.id, q.critical)  # type: ignore[arg-type]
                    for q in section.questions
                ),
            )
            for section in form.sections
        ),
    )


# --- scoring -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerInput:
    value: str  # a number of points, or "yes" / "no" / "na"
    comment: str | None = None


def compute_score(form: Form, answers: Mapping[int, str]) -> float | None:
    """0..100 from answer values by question id (see the module docstring); None when nothing is
    scorable yet (no answers, or all n.a.); 0 when a critical question failed."""
    if failed_critical(form, answers):
        return 0.0
    weighted_sections = 0.0
    section_weights = 0.0
    for section in form.sections:
        points = weights = 0.0
        for question in section.questions:
            value = answers.get(question.id)  # type: ignore[arg-type]
            if value is None or value == _NOT_APPLICABLE:
                continue
            points += question.weight * _fraction(question, value)
            weights += question.weight
        if weights > 0:
            weighted_sections += section.weight * points / weights
            section_weights += section.weight
    return 100.0 * weighted_sections / section_weights if section_weights > 0 else None


def failed_critical(form: Form, answers: Mapping[int, str]) -> tuple[QuestionSpec, ...]:
    """The critical questions these answers fail, in form order: each one alone auto-fails."""
    return tuple(
        question
        for section in form.sections
        for question in section.questions
        if question.critical
        and (value := answers.get(question.id)) is not None  # type: ignore[arg-type]
        and value != _NOT_APPLICABLE
        and _fraction(question, value) == 0
    )


def _fraction(question: QuestionSpec, value: str) -> float:
    if question.kind == "yes_no_na":
        if value not in _YES_NO:
            raise InvalidValue(f"question {question.text!r} takes yes, no or na, not {value!r}")
        return _YES_NO[value]
    try:
        points = float(value)
    except ValueError:
        points = -1.0
    if not 0 <= points <= question.max_points:
        raise InvalidValue(
            f"question {question.text!r} takes 0 to {question.max_points:g} points or na, not {value!r}"
        )
    return points / question.max_points


# --- evaluations -------------------------------------------------------------------------------


@dataclass(frozen=True)
class EvaluationSummary:
    id: int
    recording_id: int | None  # None: the call was deleted (retention, erasure); the evaluation stays
    form_id: int
    form_name: str
    coach: str
    agent_id: int
    agent: str
    score: float | None
    status: EvaluationStatus
    agent_comment: str | None
    created_at: datetime
    submitted_at: datetime | None
    call_deleted_at: datetime | None = None
    coach_comment: str | None = None  # the coach's overall comment, shown to the agent


@dataclass(frozen=True)
class EvaluationView:
    summary: EvaluationSummary
    form: Form
    answers: dict[int, AnswerInput]  # by question id
    # The critical questions failed, which made the score 0 (``failed_critical``); empty when none.
    auto_fail: tuple[QuestionSpec, ...] = ()


def start_evaluation(db: Database, principal: Principal, recording_id: int, form_id: int) -> EvaluationView:
    """The coach's draft for this call and form: an existing one is reused, so reopening the page
    (or a Streamlit rerun) continues it instead of starting another."""
    require(principal, Permission.SCORE_CALLS)
    with session_scope(db) as session:
        form = _get(session, ScorecardForm, form_id, "scorecard form")
        if not form.active:
            raise InvalidValue(
                f"scorecard form {form.name!r} v{form.version} is retired; use its newest version"
            )
        agent_id = session.scalar(
            select(Thread.agent_id)
            .join(Recording, Recording.thread_id == Thread.id)
            .where(Recording.id == recording_id)
        )
        if agent_id is None:
            _get(session, Recording, recording_id, "recording")
            raise InvalidValue(f"recording {recording_id} names no agent, so there is nobody to evaluate")
        evaluation = session.scalar(
            select(Evaluation).where(
                Evaluation.recording_id == recording_id,
                Evaluation.form_id == form_id,
                Evaluation.coach_id == principal.user_id,
                Evaluation.status == "draft",
            )
        )
        if evaluation is None:
            evaluation = Evaluation(
                recording_id=recording_id,
                form_id=form_id,
                coach_id=principal.user_id,
                agent_id=agent_id,
                status="draft",
            )
            session.add(evaluation)
            session.flush()
        return _view(session, evaluation)


def save_answers(
    db: Database,
    principal: Principal,
    evaluation_id: int,
    answers: Mapping[int, AnswerInput],
    coach_comment: str | None = None,
) -> EvaluationView:
    """Set the given answers of a draft (others stay as they were) and recompute its score. A
    ``coach_comment`` replaces the overall comment (blank clears it); None leaves it as it was."""
    if coach_comment is not None:
        check_length(f"the overall comment on evaluation {evaluation_id}", coach_comment, COMMENT_MAX_CHARS)
    with session_scope(db) as session:
        evaluation = _own_draft(session, principal, evaluation_id)
        apply_answers(session, evaluation, answers)
        if coach_comment is not None:
            evaluation.coach_comment = coach_comment.strip() or None
        append_event(
            session,
            principal,
            "evaluation_saved",
            f"evaluation:{evaluation.id}",
            {"answers": len(answers), "overall_comment": bool(evaluation.coach_comment)},
        )
        session.flush()
        return _view(session, evaluation)


def apply_answers(
    session: Session, evaluation: Evaluation, answers: Mapping[int, AnswerInput]
) -> dict[int, tuple[str | None, str]]:
    """Set the given answers (others stay as they were), all validated before any changes, and
    recompute the score; returns the values that changed, by question id: (before, after)."""
    form = _form(session.get_one(ScorecardForm, evaluation.form_id))
    values: dict[int, str] = {}
    for question_id, answer in answers.items():
        question = form.question(question_id)
        if answer.comment:
            check_length(f"the comment on question {question.text!r}", answer.comment, COMMENT_MAX_CHARS)
        value = answer.value.strip().lower()
        if value != _NOT_APPLICABLE:
            _fraction(question, value)
        values[question_id] = value
    stored = {answer.question_id: answer for answer in evaluation.answers}
    changed: dict[int, tuple[str | None, str]] = {}
    for question_id, value in values.items():
        row = stored.get(question_id)
        if row is None or row.value != value:
            changed[question_id] = (row.value if row else None, value)
        comment = answers[question_id].comment
        if row is None:
            row = EvaluationAnswer(question_id=question_id, value=value, comment=comment)
            evaluation.answers.append(row)
            stored[question_id] = row
        else:
            row.value, row.comment = value, comment
    evaluation.score = compute_score(form, {qid: row.value for qid, row in stored.items()})
    return changed


def submit_evaluation(db: Database, principal: Principal, evaluation_id: int) -> EvaluationView:
    """Hand the evaluation to the agent; every question needs an answer (n.a. counts)."""
    with session_scope(db) as session:
        evaluation = _own_draft(session, principal, evaluation_id)
        form = _form(session.get_one(ScorecardForm, evaluation.form_id))
        answered = {answer.question_id for answer in evaluation.answers}
        missing = [q.text for s in form.sections for q in s.questions if q.id not in answered]
        if missing:
            raise InvalidValue(
                f"evaluation {evaluation_id} cannot be submitted: {len(missing)} question(s) unanswered, "
                f"first {missing[0]!r}"
            )
        evaluation.status = "submitted"
        evaluation.submitted_at = datetime.now(UTC)
        append_event(
            session,
            principal,
            "evaluation_submitted",
            f"evaluation:{evaluation.id}",
            {"score": evaluation.score},
        )
        return _view(session, evaluation)


def acknowledge_evaluation(
    db: Database, principal: Principal, evaluation_id: int, comment: str | None = None
) -> EvaluationView:
    return _respond(db, principal, evaluation_id, "acknowledged", comment)


def dispute_evaluation(
    db: Database, principal: Principal, evaluation_id: int, comment: str
) -> EvaluationView:
    if not comment.strip():
        raise InvalidValue(f"disputing evaluation {evaluation_id} needs a comment saying why")
    return _respond(db, principal, evaluation_id, "disputed", comment)


def _respond(
    db: Database,
    principal: Principal,
    evaluation_id: int,
    status: Literal["acknowledged", "disputed"],
    comment: str | None,
) -> EvaluationView:
    """Only the evaluated agent answers, once, to a submitted evaluation."""
    require(principal, Permission.VIEW_OWN_EVALUATIONS)
    if comment:
        check_length(f"the answer to evaluation {evaluation_id}", comment.strip(), COMMENT_MAX_CHARS)
    with session_scope(db) as session:
        evaluation = _get(session, Evaluation, evaluation_id, "evaluation")
        if principal.agent_id is None or evaluation.agent_id != principal.agent_id:
            raise PermissionDenied(f"{principal.username} may only answer evaluations of their own calls")
        if evaluation.status != "submitted":
            raise InvalidValue(
                f"evaluation {evaluation_id} is {evaluation.status}, not waiting for an answer"
            )
        evaluation.status = status
        evaluation.agent_comment = comment.strip() if comment else None
        if status == "disputed":  # opens the dispute's thread (``storage.disputes``)
            session.add(
                EvaluationMessage(
                    evaluation_id=evaluation.id,
                    author_id=principal.user_id,
                    kind="dispute",
                    text=evaluation.agent_comment,
                )
            )
        action: AuditAction = "evaluation_acknowledged" if status == "acknowledged" else "evaluation_disputed"
        append_event(session, principal, action, f"evaluation:{evaluation.id}")
        return _view(session, evaluation)


def list_evaluations(
    db: Database,
    principal: Principal,
    *,
    agent_id: int | None = None,
    recording_id: int | None = None,
    status: EvaluationStatus | None = None,
    audited: set[int] | None = None,
) -> list[EvaluationSummary]:
    """Newest first. Coaches and up see every evaluation; agents only their own, and no drafts.
    Audited as ``evaluations_listed`` with the evaluations' ids, those in ``audited`` left out (a
    page's evaluations already logged in this session: a rerun draws them again) and added to it."""
    require(principal, Permission.VIEW_OWN_EVALUATIONS)
    query = _summary_query()
    if not allows(principal, Permission.VIEW_ALL_CALLS):
        if principal.agent_id is None:
            return []
        query = query.where(Evaluation.agent_id == principal.agent_id, Evaluation.status != "draft")
    if agent_id is not None:
        query = query.where(Evaluation.agent_id == agent_id)
    if recording_id is not None:
        query = query.where(Evaluation.recording_id == recording_id)
    if status is not None:
        query = query.where(Evaluation.status == status)
    with read_scope(db) as session:
        found = [_summary(row) for row in session.execute(query.order_by(Evaluation.id.desc()))]
    _audit_read(db, principal, "evaluations_listed", [(e.id, e.agent_id) for e in found], audited)
    return found


def get_evaluation(
    db: Database, principal: Principal, evaluation_id: int, audited: set[int] | None = None
) -> EvaluationView:
    """One evaluation with its answers and comments; audited as ``evaluation_viewed`` unless its id
    is in ``audited`` (then added to it), as ``list_evaluations``."""
    require(principal, Permission.VIEW_OWN_EVALUATIONS)
    with read_scope(db) as session:
        evaluation = _get(session, Evaluation, evaluation_id, "evaluation")
        if not allows(principal, Permission.VIEW_ALL_CALLS) and (
            evaluation.agent_id != principal.agent_id or evaluation.status == "draft"
        ):
            raise PermissionDenied(
                f"{principal.username} may only see submitted evaluations of their own calls"
            )
        view = _view(session, evaluation)
    _audit_read(db, principal, "evaluation_viewed", [(view.summary.id, view.summary.agent_id)], audited)
    return view


def _audit_read(
    db: Database,
    principal: Principal,
    action: AuditAction,
    read: Sequence[tuple[int, int]],
    audited: set[int] | None,
) -> None:
    """Log the evaluations of ``read`` ((evaluation, agent) ids) not in ``audited``, about their
    agent when they share one."""
    new = [(evaluation, agent) for evaluation, agent in read if audited is None or evaluation not in audited]
    if not new:
        return
    agents = {agent for _, agent in new}
    about = Subject("agent", agents.pop()) if len(agents) == 1 else None
    record_read(db, principal, action, about, {"evaluations": [evaluation for evaluation, _ in new]})
    if audited is not None:
        audited.update(evaluation for evaluation, _ in new)


def _own_draft(session: Session, principal: Principal, evaluation_id: int) -> Evaluation:
    require(principal, Permission.SCORE_CALLS)
    evaluation = _get(session, Evaluation, evaluation_id, "evaluation")
    if evaluation.coach_id != principal.user_id:
        raise PermissionDenied(f"evaluation {evaluation_id} belongs to another coach")
    if evaluation.status != "draft":
        raise InvalidValue(
            f"evaluation {evaluation_id} is {evaluation.status}; submitted evaluations are final"
        )
    return evaluation


def _summary_query() -> Select[*tuple[Any, ...]]:
    return (
        select(
            Evaluation.id,
            Evaluation.recording_id,
            Evaluation.form_id,
            ScorecardForm.name.label("form_name"),
            User.username.label("coach"),
            Evaluation.agent_id,
            Agent.name.label("agent"),
            Evaluation.score,
            Evaluation.status,
            Evaluation.agent_comment,
            Evaluation.coach_comment,
            Evaluation.created_at,
            Evaluation.submitted_at,
            Evaluation.call_deleted_at,
        )
        .join(ScorecardForm, ScorecardForm.id == Evaluation.form_id)
        .join(User, User.id == Evaluation.coach_id)
        .join(Agent, Agent.id == Evaluation.agent_id)
    )


def _summary(row: Row[Any]) -> EvaluationSummary:
    return EvaluationSummary(
        id=row.id,
        recording_id=row.recording_id,
        form_id=row.form_id,
        form_name=row.form_name,
        coach=row.coach,
        agent_id=row.agent_id,
        agent=row.agent,
        score=row.score,
        status=row.status,
        agent_comment=row.agent_comment,
        created_at=_as_utc(row.created_at),  # type: ignore[arg-type]
        submitted_at=_as_utc(row.submitted_at),
        call_deleted_at=_as_utc(row.call_deleted_at),
        coach_comment=row.coach_comment,
    )


def _view(session: Session, evaluation: Evaluation) -> EvaluationView:
    row = session.execute(_summary_query().where(Evaluation.id == evaluation.id)).one()
    form = _form(session.get_one(ScorecardForm, evaluation.form_id))
    answers = {a.question_id: AnswerInput(a.value, a.comment) for a in evaluation.answers}
    return EvaluationView(
        summary=_summary(row),
        form=form,
        answers=answers,
        auto_fail=failed_critical(form, {qid: a.value for qid, a in answers.items()}),
    )


# --- comments ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallCommentView:
    id: int
    recording_id: int
    author: str
    at_seconds: float
    text: str
    visibility: CommentVisibility
    created_at: datetime
    edited_at: datetime | None = None


def add_call_comment(
    db: Database,
    principal: Principal,
    recording_id: int,
    at_seconds: float,
    text: str,
    visibility: CommentVisibility = "coaches",
) -> CallCommentView:
    require(principal, Permission.COMMENT_CALLS)
    text = _checked_comment(text, visibility, f"a comment on recording {recording_id}")
    with session_scope(db) as session:
        recording = _get(session, Recording, recording_id, "recording")
        if not 0 <= at_seconds <= recording.duration:
            raise InvalidValue(
                f"recording {recording_id} lasts {recording.duration:.1f} s; no comment at {at_seconds} s"
            )
        comment = CallComment(
            recording_id=recording_id,
            user_id=principal.user_id,
            at_seconds=at_seconds,
            text=text,
            visibility=visibility,
        )
        session.add(comment)
        session.flush()
        append_event(
            session,
            principal,
            "comment_added",
            f"recording:{recording_id}",
            {"at_seconds": at_seconds, "visibility": visibility},
        )
        return _comment_view(comment, principal.username)


def edit_call_comment(
    db: Database, principal: Principal, comment_id: int, text: str, visibility: CommentVisibility
) -> CallCommentView:
    """Change a comment's text or who sees it: its author only, as a coach corrects a note."""
    text = _checked_comment(text, visibility, f"comment {comment_id}")
    with session_scope(db) as session:
        comment = _own_comment(session, principal, comment_id)
        comment.text, comment.visibility = text, visibility
        comment.edited_at = datetime.now(UTC)
        append_event(
            session,
            principal,
            "comment_edited",
            f"recording:{comment.recording_id}",
            {"comment": comment_id, "visibility": visibility},
        )
        return _comment_view(comment, principal.username)


def delete_call_comment(db: Database, principal: Principal, comment_id: int) -> None:
    """Remove a comment: its author only; the audit log keeps that it was there, not its text."""
    with session_scope(db) as session:
        comment = _own_comment(session, principal, comment_id)
        append_event(
            session,
            principal,
            "comment_deleted",
            f"recording:{comment.recording_id}",
            {"comment": comment_id, "at_seconds": comment.at_seconds},
        )
        session.delete(comment)


def _own_comment(session: Session, principal: Principal, comment_id: int) -> CallComment:
    require(principal, Permission.COMMENT_CALLS)
    comment = _get(session, CallComment, comment_id, "comment")
    if comment.user_id != principal.user_id:
        raise PermissionDenied(f"comment {comment_id} is not yours: only its author can change it")
    return comment


def _checked_comment(text: str, visibility: str, what: str) -> str:
    text = text.strip()
    if not text:
        raise InvalidValue(f"{what} needs text")
    if visibility not in COMMENT_VISIBILITIES:
        raise InvalidValue(
            f"comment visibility {visibility!r} is not one of {', '.join(COMMENT_VISIBILITIES)}"
        )
    check_length(what, text, COMMENT_MAX_CHARS)
    return text


def list_call_comments(db: Database, principal: Principal, recording_id: int) -> list[CallCommentView]:
    """In call order, for pinning on the player's timeline. Those who may comment calls read every
    comment; anyone else only the comments shared with the agent, on calls that agent took."""
    require(principal, Permission.REPLAY_CALLS)
    query = (
        select(CallComment, User.username)
        .join(User, User.id == CallComment.user_id)
        .where(CallComment.recording_id == recording_id)
        .order_by(CallComment.at_seconds, CallComment.id)
    )
    if not allows(principal, Permission.COMMENT_CALLS):
        if principal.agent_id is None:
            return []
        query = (
            query.join(Recording, Recording.id == CallComment.recording_id)
            .join(Thread, Thread.id == Recording.thread_id)
            .where(CallComment.visibility == "agent", Thread.agent_id == principal.agent_id)
        )
    with read_scope(db) as session:
        return [_comment_view(comment, username) for comment, username in session.execute(query).all()]


def _comment_view(comment: CallComment, author: str) -> CallCommentView:
    return CallCommentView(
        comment.id,
        comment.recording_id,
        author,
        comment.at_seconds,
        comment.text,
        comment.visibility,  # type: ignore[arg-type]
        _as_utc(comment.created_at),  # type: ignore[arg-type]
        _as_utc(comment.edited_at),
    )


# --- agent overview and team view --------------------------------------------------------------


@dataclass(frozen=True)
class CallFigures:
    """What some of an agent's calls come to. Evaluations count with the call they score, whenever
    they were submitted; the conversation metrics come from the calls' stored transcripts."""

    evaluations: int  # submitted (or answered), drafts not counted
    scored_calls: int  # calls with at least one such evaluation
    average_score: float | None
    calls: int  # the agent's calls that started in the period
    transcribed_calls: int  # of which the metrics below are averaged
    talk_ratio: float | None  # mean over transcribed calls with speech
    silence_share: float | None
    agent_interruptions: int
    customer_interruptions: int


@dataclass(frozen=True)
class WeekStats(CallFigures):
    week_start: date  # the Monday


@dataclass(frozen=True)
class AgentOverview:
    agent_id: int
    agent: str
    date_from: date
    date_to: date
    weeks: tuple[WeekStats, ...]  # every week of the range, oldest first, empty weeks included


@dataclass(frozen=True)
class TeamRow(CallFigures):
    agent_id: int
    agent: str
    team: str | None


def agent_overview(
    db: Database, principal: Principal, agent_id: int, date_from: date, date_to: date
) -> AgentOverview:
    """Per week of the calls: average evaluation score and the agent's conversation metrics from
    stored transcripts (talk ratio, silence share, interruptions). Dates are whole UTC days, inclusive."""
    require(principal, Permission.VIEW_AGENT_OVERVIEWS)
    if date_from > date_to:
        raise InvalidValue(f"date range is backwards: from {date_from} is after to {date_to}")
    start = datetime.combine(date_from, time(), UTC)
    end = datetime.combine(date_to + timedelta(days=1), time(), UTC)
    _check_period(start, end)
    weeks: dict[date, _Figures] = {}
    monday = date_from - timedelta(days=date_from.weekday())
    while monday <= date_to:
        weeks[monday] = _Figures()
        monday += timedelta(days=7)
    with read_scope(db) as session:
        agent = _get(session, Agent, agent_id, "agent")
        _gather(
            session,
            start,
            end,
            select(Agent.id).where(Agent.id == agent_id),
            weeks,
            lambda _, at: _monday(at),
        )
    return AgentOverview(
        agent_id=agent.id,
        agent=agent.name,
        date_from=date_from,
        date_to=date_to,
        weeks=tuple(week.into(WeekStats, week_start=monday) for monday, week in weeks.items()),
    )


def team_view(
    db: Database, principal: Principal, start: datetime, end: datetime, team: str | None = None
) -> list[TeamRow]:
    """Every agent (of ``team``, else all) side by side, by name, over the calls that started from
    ``start`` (inclusive) to ``end`` (not): agents without a call in the period are rows too, with
    zeros. Moments need a time zone, as the call list's do, so both count the same calls for the same
    days. Four statements whatever the number of agents and calls. Audited as ``team_viewed``."""
    require(principal, Permission.VIEW_AGENT_OVERVIEWS)
    if team is not None and not team.strip():
        raise InvalidValue("team filter is empty")
    _check_period(start, end)
    members = select(Agent.id).where(Agent.team == team.strip()) if team is not None else None
    with read_scope(db) as session:
        agents = session.execute(
            select(Agent.id, Agent.name, Agent.team)
            .where(Agent.id.in_(members) if members is not None else true())
            .order_by(Agent.name)
        ).all()
        figures = {agent.id: _Figures() for agent in agents}
        _gather(session, start, end, members, figures, lambda agent_id, _: agent_id)
    rows = [figures[a.id].into(TeamRow, agent_id=a.id, agent=a.name, team=a.team) for a in agents]
    details = {"from": start.isoformat(), "to": end.isoformat(), "team": team, "agents": len(rows)}
    record_read(db, principal, "team_viewed", None, details)
    return rows


def _check_period(start: datetime, end: datetime) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidValue("a period's start and end need a time zone")
    if start >= end:
        raise InvalidValue("the period is empty: it ends before it starts")
    if end - start > timedelta(days=_MAX_OVERVIEW_DAYS):
        raise InvalidValue(f"a period covers at most {_MAX_OVERVIEW_DAYS} days")


def _gather(
    session: Session,
    start: datetime,
    end: datetime,
    agents: Select[Any] | None,
    groups: Mapping[_K, _Figures],
    group_of: Callable[[int, datetime], _K],
) -> None:
    """Add the evaluations and calls that started from ``start`` to ``end`` of ``agents`` (a select
    of their ids; None: every agent) to ``groups``, each to the group ``group_of(agent id, call
    time)`` names; one not among ``groups`` is left out."""
    call_time = func.coalesce(Thread.started_at, Recording.ingested_at)
    # Compared in UTC: SQLite stores naive UTC, and PostgreSQL compares aware moments as such.
    in_period = (call_time >= as_utc(start), call_time < as_utc(end))
    evaluated_by = (Evaluation.agent_id.in_(agents),) if agents is not None else ()
    taken_by = (Thread.agent_id.in_(agents),) if agents is not None else ()
    # An evaluation counts with the call it scores, not when it was submitted: a call of May scored
    # in June is May's work.
    scores = session.execute(
        select(Evaluation.agent_id, Evaluation.recording_id, call_time.label("at"), Evaluation.score)
        .join(Recording, Recording.id == Evaluation.recording_id)
        .join(Thread, Thread.id == Recording.thread_id)
        .where(Evaluation.status != "draft", *in_period, *evaluated_by)
    )
    for evaluation in scores:
        scored = groups.get(group_of(evaluation.agent_id, evaluation.at))
        if scored is not None:
            scored.add_evaluation(evaluation.recording_id, evaluation.score)
    # Utterance times and roles only, of the same calls: the words are not needed and are most of a
    # transcript. Joined, not listed by id, so that a long period stays one statement.
    spans: dict[int, list[SpeechSpan]] = defaultdict(list)
    for span in session.execute(
        select(Utterance.transcript_id, Speaker.role, Utterance.start, Utterance.end)
        .join(Speaker, Speaker.id == Utterance.speaker_id)
        .join(Transcript, Transcript.id == Utterance.transcript_id)
        .join(Recording, Recording.id == Transcript.recording_id)
        .join(Thread, Thread.id == Recording.thread_id)
        .where(*in_period, *taken_by)
    ):
        spans[span.transcript_id].append(SpeechSpan(span.role, span.start, span.end))
    calls = session.execute(
        select(
            Thread.agent_id, call_time.label("at"), Transcript.id.label("transcript_id"), Transcript.duration
        )
        .select_from(Recording)
        .join(Thread, Thread.id == Recording.thread_id)
        .outerjoin(Transcript, Transcript.recording_id == Recording.id)
        .where(*in_period, *taken_by)
    )
    for call in calls:
        taken = groups.get(group_of(call.agent_id, call.at)) if call.agent_id is not None else None
        if taken is not None:
            metrics = None
            if call.transcript_id is not None:
                metrics = speech_metrics(call.duration, spans[call.transcript_id])
            taken.add_call(metrics)


def _monday(moment: datetime) -> date:
    day = _as_utc(moment).date()  # type: ignore[union-attr]
    return day - timedelta(days=day.weekday())


@dataclass
class _Figures:
    """``CallFigures`` as they add up."""

    evaluations: int = 0
    scored: set[int] = field(default_factory=set)  # the calls' recording ids
    scores: list[float] = field(default_factory=list)
    calls: int = 0
    metrics: list[CallMetrics] = field(default_factory=list)

    def add_evaluation(self, recording_id: int, score: float | None) -> None:
        self.evaluations += 1
        self.scored.add(recording_id)
        if score is not None:  # all questions n.a.
            self.scores.append(score)

    def add_call(self, metrics: CallMetrics | None) -> None:
        """A call, with its metrics when it has a transcript."""
        self.calls += 1
        if metrics is not None:
            self.metrics.append(metrics)

    def into(self, kind: type[_F], **key: Any) -> _F:
        """The figures as a ``kind``, which adds ``key``'s fields (the week, the agent) to them."""
        ratios = [m.talk_ratio for m in self.metrics if m.talk_ratio is not None]
        return kind(
            **key,
            evaluations=self.evaluations,
            scored_calls=len(self.scored),
            average_score=_mean(self.scores),
            calls=self.calls,
            transcribed_calls=len(self.metrics),
            talk_ratio=_mean(ratios),
            silence_share=_mean([m.silence_share for m in self.metrics]),
            agent_interruptions=sum(m.agent_interruptions for m in self.metrics),
            customer_interruptions=sum(m.customer_interruptions for m in self.metrics),
        )


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _get(session: Session, model: type[_T], item_id: int, what: str) -> _T:
    item = session.get(model, item_id)
    if item is None:
        raise NotFound(f"no {what} with id {item_id}")
    return item
