"""Customer merges as a reviewer makes them: the pending merge suggestions with their evidence,
accepting or rejecting one, and the merges that stand with their undo (``storage.customers`` does
the moving). Each checks ``MERGE_CUSTOMERS`` and is audited, a change in the same transaction as
its audit row. ``who`` None: the command line, which holds the database file and so needs no role.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.access import Permission, Principal, require_unless_command_line
from storage.audit import COMMAND_LINE, AuditAction, acting_name, append_event, record_read
from storage.audit_subjects import Subject
from storage.customers import (
    MergeRecord,
    SuggestionOutcome,
    SuggestionView,
    list_merge_suggestions,
    list_merges,
    merge_customers_in,
    resolve_suggestion_in,
    undo_merge_in,
)
from storage.db import Database, read_scope, session_scope
from storage.models import Customer

__all__ = [
    "MergeReview",
    "SuggestionReview",
    "decide_suggestion",
    "merge_by_hand",
    "pending_suggestions",
    "standing_merges",
    "undo_customer_merge",
]


@dataclass(frozen=True)
class SuggestionReview:
    suggestion: SuggestionView
    name_a: str | None  # customer_a's name, if it has one
    name_b: str | None


@dataclass(frozen=True)
class MergeReview:
    merge: MergeRecord
    survivor_name: str | None
    merged_name: str | None


def pending_suggestions(db: Database, who: Principal | None) -> list[SuggestionReview]:
    """The pending suggestions, oldest first, with both customers' names; audited as
    ``merge_suggestions_listed`` with the customers they name."""
    require_unless_command_line(who, Permission.MERGE_CUSTOMERS)
    suggestions = list_merge_suggestions(db)
    names = _names(db, (c for s in suggestions for c in (s.customer_a, s.customer_b)))
    details = {
        "suggestions": [s.id for s in suggestions],
        "customers": sorted({c for s in suggestions for c in (s.customer_a, s.customer_b)}),
    }
    record_read(db, who, "merge_suggestions_listed", None, details)
    return [SuggestionReview(s, names.get(s.customer_a), names.get(s.customer_b)) for s in suggestions]


def standing_merges(db: Database, who: Principal | None, limit: int = 20) -> list[MergeReview]:
    """The merges that stand, newest first, to undo; audited as ``customer_merges_listed``."""
    require_unless_command_line(who, Permission.MERGE_CUSTOMERS)
    merges = list_merges(db, limit)
    names = _names(db, (c for m in merges for c in (m.survivor_id, m.merged_id)))
    record_read(db, who, "customer_merges_listed", None, {"merges": [m.id for m in merges]})
    return [MergeReview(m, names.get(m.survivor_id), names.get(m.merged_id)) for m in merges]


def decide_suggestion(
    db: Database, who: Principal | None, suggestion_id: int, accept: bool, *, by: str | None = None
) -> SuggestionOutcome:
    """Accept (merge the newer customer into the older) or reject a pending suggestion; audited as
    ``customers_merged`` or ``merge_suggestion_rejected``. ``by``: who the merge record names
    (the signed-in user; the command line may name someone)."""
    require_unless_command_line(who, Permission.MERGE_CUSTOMERS)
    with session_scope(db) as session:
        outcome = resolve_suggestion_in(session, suggestion_id, accept, by or acting_name(who))
        pair = [outcome.suggestion.customer_a, outcome.suggestion.customer_b]
        if outcome.merge is not None:
            _merged(session, who, outcome.merge, suggestion_id)
        else:
            details = {"suggestion": suggestion_id, "customers": pair}
            _append(session, who, "merge_suggestion_rejected", Subject("customer", pair[0]), details)
        return outcome


def merge_by_hand(
    db: Database, who: Principal | None, survivor_id: int, merged_id: int, *, by: str | None = None
) -> MergeRecord:
    """Merge customer ``merged_id`` into ``survivor_id`` without a suggestion; audited as
    ``customers_merged``."""
    require_unless_command_line(who, Permission.MERGE_CUSTOMERS)
    with session_scope(db) as session:
        merge = merge_customers_in(session, survivor_id, merged_id, by or acting_name(who))
        _merged(session, who, merge, None)
        return merge


def undo_customer_merge(db: Database, who: Principal | None, merge_id: int) -> MergeRecord:
    """Undo a merge exactly (``storage.customers.undo_merge``); audited as ``customer_merge_undone``."""
    require_unless_command_line(who, Permission.MERGE_CUSTOMERS)
    with session_scope(db) as session:
        record = undo_merge_in(session, merge_id)
        details = {"merge": merge_id, "survivor": record.survivor_id}
        _append(session, who, "customer_merge_undone", Subject("customer", record.merged_id), details)
        return record


def _merged(session: Session, who: Principal | None, merge: MergeRecord, suggestion_id: int | None) -> None:
    details = {
        "merge": merge.id,
        "merged": merge.merged_id,
        "identities": len(merge.identity_ids),
        "conversations": len(merge.thread_ids),
        "suggestion": suggestion_id,
        "by": merge.by,
    }
    _append(session, who, "customers_merged", Subject("customer", merge.survivor_id), details)


def _append(
    session: Session, who: Principal | None, action: AuditAction, subject: Subject, details: Mapping[str, Any]
) -> None:
    append_event(session, who, action, subject, details, username=COMMAND_LINE)


def _names(db: Database, customer_ids: Iterable[int]) -> dict[int, str | None]:
    wanted = set(customer_ids)
    if not wanted:
        return {}
    with read_scope(db) as session:
        rows = session.execute(select(Customer.id, Customer.display_name).where(Customer.id.in_(wanted)))
        return {row.id: row.display_name for row in rows}
