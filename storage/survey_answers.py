"""The customers' survey answers (``storage.survey_import``) beside the contact they rate: a call's on
the call page, each conversation's in the customer's history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import select

from storage.access import Permission, Principal, require
from storage.db import Database, read_scope
from storage.models import Recording, SurveyResponse, as_utc
from storage.survey_import import SurveyKind

__all__ = ["SurveyAnswer", "answers_of_call", "answers_of_conversations"]


@dataclass(frozen=True)
class SurveyAnswer:
    kind: SurveyKind
    score: float
    answered_at: datetime  # UTC
    comment: str | None  # the customer's words: text, never markup


def answers_of_conversations(
    db: Database, who: Principal, thread_ids: Sequence[int]
) -> dict[int, tuple[SurveyAnswer, ...]]:
    """The answers about each of these conversations, oldest first. Shown inside a history or a call
    whose read is audited already, so this read adds no row of its own."""
    require(who, Permission.LOOKUP_CUSTOMERS)
    if not thread_ids:
        return {}
    grouped: dict[int, list[SurveyAnswer]] = {}
    with read_scope(db) as session:
        for row in session.execute(
            select(SurveyResponse)
            .where(SurveyResponse.thread_id.in_(list(thread_ids)))
            .order_by(SurveyResponse.thread_id, SurveyResponse.answered_at, SurveyResponse.id)
        ).scalars():
            grouped.setdefault(row.thread_id, []).append(
                SurveyAnswer(cast(SurveyKind, row.kind), row.score, as_utc(row.answered_at), row.comment)
            )
    return {thread_id: tuple(answers) for thread_id, answers in grouped.items()}


def answers_of_call(db: Database, who: Principal, recording_id: int) -> tuple[SurveyAnswer, ...]:
    """The answers about one call (the call page's), oldest first."""
    require(who, Permission.REPLAY_CALLS)
    with read_scope(db) as session:
        thread_id = session.scalar(select(Recording.thread_id).where(Recording.id == recording_id))
    if thread_id is None:
        return ()
    return answers_of_conversations(db, who, [thread_id]).get(thread_id, ())
