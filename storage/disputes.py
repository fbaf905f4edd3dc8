"""Disputes: the exchange that follows an agent's dispute of an evaluation, until a coach closes it.

``quality.dispute_evaluation`` opens one (status "disputed", the agent's comment its first message).
While it is open the agent replies and any coach (anyone who may score calls, not only the evaluator,
never the disputing agent themself) answers or re-scores the evaluation; a coach then closes it: upheld
(the score stands) or resolved (after a re-score). Who must act next follows from the last message: the
agent's dispute or reply waits for a coach, a coach's answer or re-score for the agent. Open disputes
are few, so a waiting list is read whole and the menu's count is its length. Every step is checked
against the role here, written to the thread and audited (without its text) in one transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, func, or_, select, true
from sqlalchemy.orm import Session, aliased

from storage.access import Permission, Principal, allows, require
from storage.audit import AuditAction, append_event
from storage.db import Database, read_scope, session_scope
from storage.errors import InvalidValue, NotFound, PermissionDenied
from storage.limits import COMMENT_MAX_CHARS, check_length
from storage.models import Evaluation, EvaluationMessage, ScorecardForm, User, as_utc
from storage.quality import (
    AnswerInput,
    EvaluationSummary,
    _audit_read,
    _form,
    _get,
    _summary,
    _summary_query,
    apply_answers,
)

__all__ = [
    "AnswerChange",
    "DisputeMessage",
    "MessageKind",
    "OpenDispute",
    "Side",
    "answer_dispute",
    "dispute_history",
    "count_disputes_waiting_for",
    "open_disputes",
    "reply_to_dispute",
    "rescore_disputed",
    "resolve_dispute",
    "uphold_dispute",
]

MessageKind = Literal["dispute", "reply", "answer", "rescore", "upheld", "resolved"]
Side = Literal["agent", "coach"]
_AGENT_KINDS: tuple[MessageKind, ...] = ("dispute", "reply")  # then a coach is to act
_COACH_KINDS: tuple[MessageKind, ...] = ("answer", "rescore")  # then the agent is to act
_CLOSED = ("upheld", "resolved")


@dataclass(frozen=True)
class AnswerChange:
    question: str
    before: str | None  # None: the question had no answer
    after: str


@dataclass(frozen=True)
class DisputeMessage:
    id: int
    evaluation_id: int
    author: str | None  # None: a dispute older than the thread, by an agent without an account
    side: Side
    kind: MessageKind
    text: str  # empty for a resolution without a note
    created_at: datetime
    old_score: float | None = None  # a re-score's score before and after
    new_score: float | None = None
    changes: tuple[AnswerChange, ...] = ()


@dataclass(frozen=True)
class OpenDispute:
    evaluation: EvaluationSummary
    waiting_for: Side
    your_turn: bool  # waiting for the user it was listed for
    last_message_at: datetime
    messages: int


# --- what waits for whom -------------------------------------------------------------------------


def open_disputes(db: Database, principal: Principal, audited: set[int] | None = None) -> list[OpenDispute]:
    """The open disputes this user takes part in, oldest dispute first: every one for a coach, their
    own for an agent; ``your_turn`` marks those waiting for this user (for a coach those whose last
    word is the agent's, for an agent the coaches' answers). Audited as ``disputes_listed`` with the
    evaluations' ids, those in ``audited`` left out and added to it (as
    ``quality.list_evaluations``)."""
    disputes = _open_disputes(db, principal)
    read = [(dispute.evaluation.id, dispute.evaluation.agent_id) for dispute in disputes]
    _audit_read(db, principal, "disputes_listed", read, audited)
    return disputes


def count_disputes_waiting_for(db: Database, principal: Principal) -> int:
    """How many open disputes this user is to act on (the menu's count): a number, not audited."""
    return sum(dispute.your_turn for dispute in _open_disputes(db, principal))


def _open_disputes(db: Database, principal: Principal) -> list[OpenDispute]:
    require(principal, Permission.VIEW_OWN_EVALUATIONS)
    parties: list[ColumnElement[bool]] = []
    if allows(principal, Permission.SCORE_CALLS):
        parties.append(true())
    if principal.agent_id is not None:
        parties.append(Evaluation.agent_id == principal.agent_id)
    if not parties:
        return []
    disputed = aliased(Evaluation)
    counts = (  # the open threads only: closed ones are most of them in time
        select(
            EvaluationMessage.evaluation_id,
            func.max(EvaluationMessage.id).label("last_id"),
            func.count().label("messages"),
        )
        .join(disputed, disputed.id == EvaluationMessage.evaluation_id)
        .where(disputed.status == "disputed")
        .group_by(EvaluationMessage.evaluation_id)
        .subquery()
    )
    last = aliased(EvaluationMessage)
    query = (
        _summary_query()
        .add_columns(last.kind.label("last_kind"), last.created_at.label("last_at"), counts.c.messages)
        .join(counts, counts.c.evaluation_id == Evaluation.id)
        .join(last, last.id == counts.c.last_id)
        .where(Evaluation.status == "disputed", or_(*parties))
        .order_by(Evaluation.id)
    )
    with read_scope(db) as session:
        rows = session.execute(query).all()
    disputes = []
    for row in rows:
        waiting_for: Side = "coach" if row.last_kind in _AGENT_KINDS else "agent"
        own = principal.agent_id is not None and row.agent_id == principal.agent_id
        disputes.append(
            OpenDispute(
                evaluation=_summary(row),
                waiting_for=waiting_for,
                # A coach's own call is theirs to answer as the agent, never to judge.
                your_turn=waiting_for == ("agent" if own else "coach"),
                last_message_at=as_utc(row.last_at),
                messages=row.messages,
            )
        )
    return disputes


# --- the exchange --------------------------------------------------------------------------------


def dispute_history(
    db: Database, principal: Principal, evaluation_id: int, audited: set[int] | None = None
) -> list[DisputeMessage]:
    """Every message of the evaluation's dispute in the order written (none if it was never
    disputed). Readable by whoever may read the evaluation; audited as ``dispute_viewed`` when there
    is one, unless the evaluation's id is in ``audited`` (then added to it)."""
    require(principal, Permission.VIEW_OWN_EVALUATIONS)
    with read_scope(db) as session:
        evaluation = _get(session, Evaluation, evaluation_id, "evaluation")
        if not allows(principal, Permission.VIEW_ALL_CALLS) and (
            evaluation.agent_id != principal.agent_id or evaluation.status == "draft"
        ):
            raise PermissionDenied(f"{principal.username} may only read disputes about their own calls")
        questions = _question_texts(session, evaluation)
        rows = session.execute(
            select(EvaluationMessage, User.username)
            .outerjoin(User, User.id == EvaluationMessage.author_id)
            .where(EvaluationMessage.evaluation_id == evaluation_id)
            .order_by(EvaluationMessage.id)
        ).all()
        history = [_message(message, author, questions) for message, author in rows]
        read = [(evaluation.id, evaluation.agent_id)]
    if history:
        _audit_read(db, principal, "dispute_viewed", read, audited)
    return history


def reply_to_dispute(db: Database, principal: Principal, evaluation_id: int, text: str) -> DisputeMessage:
    """The disputing agent's reply; the dispute waits for a coach again."""
    with session_scope(db) as session:
        evaluation = _open_dispute(session, principal, evaluation_id, "agent", "replied to")
        text = _checked_text(text, f"a reply in the dispute about evaluation {evaluation_id}")
        return _post(session, principal, evaluation, "reply", text, "dispute_replied")


def answer_dispute(db: Database, principal: Principal, evaluation_id: int, text: str) -> DisputeMessage:
    """A coach's answer; the dispute stays open and waits for the agent."""
    with session_scope(db) as session:
        evaluation = _open_dispute(session, principal, evaluation_id, "coach", "answered")
        text = _checked_text(text, f"an answer to the dispute about evaluation {evaluation_id}")
        return _post(session, principal, evaluation, "answer", text, "dispute_answered")


def rescore_disputed(
    db: Database,
    principal: Principal,
    evaluation_id: int,
    answers: Mapping[int, AnswerInput],
    text: str,
) -> DisputeMessage:
    """Change answers of the disputed evaluation and recompute its score, saying why. The thread keeps
    the score before and after and each changed answer; the dispute stays open (waiting for the
    agent) until a coach resolves it."""
    with session_scope(db) as session:
        evaluation = _open_dispute(session, principal, evaluation_id, "coach", "re-scored")
        text = _checked_text(text, f"the reason for re-scoring evaluation {evaluation_id}")
        old_score = evaluation.score
        changed = apply_answers(session, evaluation, answers)
        if not changed:
            raise InvalidValue(
                f"re-scoring evaluation {evaluation_id} changes no answer; answer the dispute instead"
            )
        return _post(
            session,
            principal,
            evaluation,
            "rescore",
            text,
            "evaluation_rescored",
            old_score=old_score,
            new_score=evaluation.score,
            changes={str(qid): list(values) for qid, values in changed.items()},
        )


def uphold_dispute(db: Database, principal: Principal, evaluation_id: int, text: str) -> DisputeMessage:
    """Close the dispute with the score as it was, saying why."""
    with session_scope(db) as session:
        evaluation = _open_dispute(session, principal, evaluation_id, "coach", "upheld")
        text = _checked_text(text, f"the reason for upholding evaluation {evaluation_id}")
        if _rescored(session, evaluation_id):
            raise InvalidValue(
                f"evaluation {evaluation_id} was re-scored in this dispute: resolve it rather than uphold"
            )
        evaluation.status = "upheld"
        return _post(session, principal, evaluation, "upheld", text, "dispute_upheld")


def resolve_dispute(
    db: Database, principal: Principal, evaluation_id: int, text: str | None = None
) -> DisputeMessage:
    """Close the dispute after a re-score, with an optional closing note."""
    with session_scope(db) as session:
        evaluation = _open_dispute(session, principal, evaluation_id, "coach", "resolved")
        what = f"the note resolving the dispute about evaluation {evaluation_id}"
        note = _checked_text(text, what) if text and text.strip() else ""
        if not _rescored(session, evaluation_id):
            raise InvalidValue(
                f"evaluation {evaluation_id} was not re-scored: re-score it first, or uphold its score"
            )
        evaluation.status = "resolved"
        return _post(session, principal, evaluation, "resolved", note, "dispute_resolved")


def _open_dispute(
    session: Session, principal: Principal, evaluation_id: int, side: Side, done: str
) -> Evaluation:
    """The evaluation, when ``principal`` may act on its dispute from ``side`` and it is open; its row
    locked (PostgreSQL), so two coaches closing it at once cannot both see it open."""
    require(principal, Permission.SCORE_CALLS if side == "coach" else Permission.VIEW_OWN_EVALUATIONS)
    evaluation = session.get(Evaluation, evaluation_id, with_for_update=True)
    if evaluation is None:
        raise NotFound(f"no evaluation with id {evaluation_id}")
    own = principal.agent_id is not None and evaluation.agent_id == principal.agent_id
    if side == "agent" and not own:
        raise PermissionDenied(f"{principal.username} may only reply to disputes about their own calls")
    if side == "coach" and own:
        raise PermissionDenied(f"{principal.username} may not judge a dispute about their own call")
    if evaluation.status != "disputed":
        state = "its dispute is closed" if evaluation.status in _CLOSED else "it is not disputed"
        raise InvalidValue(
            f"evaluation {evaluation_id} is {evaluation.status}: {state}, so it cannot be {done}"
        )
    return evaluation


def _rescored(session: Session, evaluation_id: int) -> bool:
    query: Select[Any] = select(EvaluationMessage.id).where(
        EvaluationMessage.evaluation_id == evaluation_id, EvaluationMessage.kind == "rescore"
    )
    return session.scalar(query.limit(1)) is not None


def _post(
    session: Session,
    principal: Principal,
    evaluation: Evaluation,
    kind: MessageKind,
    text: str,
    action: AuditAction,
    *,
    old_score: float | None = None,
    new_score: float | None = None,
    changes: dict[str, Any] | None = None,
) -> DisputeMessage:
    message = EvaluationMessage(
        evaluation_id=evaluation.id,
        author_id=principal.user_id,
        kind=kind,
        text=text,
        old_score=old_score,
        new_score=new_score,
        changes=changes,
    )
    session.add(message)
    session.flush()
    details: dict[str, Any] = {"message": message.id, "status": evaluation.status}
    if kind == "rescore":  # the scores and which questions, never the text
        details |= {"old_score": old_score, "new_score": new_score, "questions": sorted(changes or {})}
    append_event(session, principal, action, f"evaluation:{evaluation.id}", details)
    return _message(message, principal.username, _question_texts(session, evaluation))


def _question_texts(session: Session, evaluation: Evaluation) -> dict[int | None, str]:
    form = _form(session.get_one(ScorecardForm, evaluation.form_id))
    return {q.id: q.text for s in form.sections for q in s.questions}


def _checked_text(text: str | None, what: str) -> str:
    text = (text or "").strip()
    if not text:
        raise InvalidValue(f"{what} needs text")
    check_length(what, text, COMMENT_MAX_CHARS)
    return text


def _side(kind: str) -> Side:
    return "agent" if kind in _AGENT_KINDS else "coach"


def _message(
    message: EvaluationMessage, author: str | None, questions: dict[int | None, str]
) -> DisputeMessage:
    changes = tuple(
        AnswerChange(questions.get(int(qid), f"question {qid}"), before, after)
        for qid, (before, after) in (message.changes or {}).items()
    )
    return DisputeMessage(
        id=message.id,
        evaluation_id=message.evaluation_id,
        author=author,
        side=_side(message.kind),
        kind=message.kind,  # type: ignore[arg-type]
        text=message.text,
        created_at=as_utc(message.created_at),
        old_score=message.old_score,
        new_score=message.new_score,
        changes=changes,
    )
