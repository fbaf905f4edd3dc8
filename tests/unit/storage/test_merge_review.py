"""Customer merges as a reviewer makes them (``storage.merge_review``) on SQLite and PostgreSQL:
the role check, the audit of every listing and change, and accept, reject and undo end to end
from a suggestion an import made."""

from __future__ import annotations

import pytest

from recorder.threads import IdentityRef
from storage.access import Principal
from storage.audit import list_audit
from storage.customers import CustomerChangeRefused, customer_detail
from storage.db import Database
from storage.errors import PermissionDenied
from storage.merge_review import (
    decide_suggestion,
    merge_by_hand,
    pending_suggestions,
    standing_merges,
    undo_customer_merge,
)
from storage.threads_import import ImportBatch, import_threads
from tests.integration.test_customer_history import _chat


@pytest.fixture
def suggestion(db: Database) -> int:
    """Two customers (a phone's, an e-mail's) and a chat naming both: one pending suggestion."""
    import_threads(db, ImportBatch((_chat("a", [IdentityRef("phone", "+31 6 11111111")]),), ()), "NL")
    import_threads(db, ImportBatch((_chat("b", [IdentityRef("email", "x@example.org")]),), ()), "NL")
    both = [IdentityRef("email", "X@example.org"), IdentityRef("phone", "0611111111")]
    import_threads(db, ImportBatch((_chat("c", both),), ()), "NL")
    [review] = pending_suggestions(db, None)
    return review.suggestion.id


def _actions(db: Database, people: dict[str, Principal]) -> list[tuple[str, str, str | None]]:
    rows = reversed(list_audit(db, people["admin"], limit=100))
    merges = ("merge", "customers_merged", "customer_merge")
    return [(r.username, r.action, r.target) for r in rows if any(m in r.action for m in merges)]


@pytest.mark.parametrize("role", ["agent", "coach"])
def test_agents_and_coaches_may_not_review_merges(
    db: Database, people: dict[str, Principal], suggestion: int, role: str
) -> None:
    who = people[role]
    for attempt in (
        lambda: pending_suggestions(db, who),
        lambda: standing_merges(db, who),
        lambda: decide_suggestion(db, who, suggestion, accept=True),
        lambda: merge_by_hand(db, who, 1, 2),
        lambda: undo_customer_merge(db, who, 1),
    ):
        with pytest.raises(PermissionDenied, match="may not merge customers"):
            attempt()
    assert [r.suggestion.id for r in pending_suggestions(db, people["compliance"])] == [suggestion]


def test_accepting_merges_and_undoing_gives_back_exactly_and_both_are_audited(
    db: Database, people: dict[str, Principal], suggestion: int
) -> None:
    compliance = people["compliance"]
    [review] = pending_suggestions(db, compliance)
    assert {i["kind"] for i in review.suggestion.evidence["identities"]} == {"phone", "email"}
    a, b = review.suggestion.customer_a, review.suggestion.customer_b
    before = {c: customer_detail(db, c).identities for c in (a, b)}

    outcome = decide_suggestion(db, compliance, suggestion, accept=True)
    assert outcome.merge is not None and outcome.merge.by == "compliance@example.com"
    assert outcome.suggestion.status == "accepted"
    assert pending_suggestions(db, compliance) == []
    [standing] = standing_merges(db, compliance)
    assert (standing.merge.id, standing.merge.survivor_id, standing.merge.merged_id) == (
        outcome.merge.id,
        a,
        b,
    )
    assert {i.kind for i in customer_detail(db, a).identities} == {"phone", "email"}  # b's moved to a

    undone = undo_customer_merge(db, people["admin"], outcome.merge.id)
    assert undone.undone_at is not None
    assert {c: customer_detail(db, c).identities for c in (a, b)} == before
    assert [r.suggestion.id for r in pending_suggestions(db, compliance)] == [suggestion]  # pending again
    assert standing_merges(db, compliance) == []
    with pytest.raises(CustomerChangeRefused, match="already undone"):
        undo_customer_merge(db, compliance, outcome.merge.id)

    assert _actions(db, people) == [
        ("(command line)", "merge_suggestions_listed", None),
        ("compliance@example.com", "merge_suggestions_listed", None),
        ("compliance@example.com", "customers_merged", f"customer:{a}"),
        ("compliance@example.com", "merge_suggestions_listed", None),
        ("compliance@example.com", "customer_merges_listed", None),
        ("admin@example.com", "customer_merge_undone", f"customer:{b}"),
        ("compliance@example.com", "merge_suggestions_listed", None),
        ("compliance@example.com", "customer_merges_listed", None),
    ]  # the refused second undo left no row
    merged = next(r for r in list_audit(db, people["admin"]) if r.action == "customers_merged")
    assert {k: v for k, v in merged.details.items() if k != "about"} == {
        "merge": outcome.merge.id,
        "merged": b,
        "identities": 1,
        "conversations": 2,
        "suggestion": suggestion,
        "by": "compliance@example.com",
    }


def test_rejecting_keeps_them_apart_and_is_audited(
    db: Database, people: dict[str, Principal], suggestion: int
) -> None:
    outcome = decide_suggestion(db, people["admin"], suggestion, accept=False)
    assert (outcome.suggestion.status, outcome.merge) == ("rejected", None)
    with pytest.raises(CustomerChangeRefused, match="already rejected"):
        decide_suggestion(db, people["admin"], suggestion, accept=True)
    rejected = next(r for r in list_audit(db, people["admin"]) if r.action == "merge_suggestion_rejected")
    assert rejected.details["suggestion"] == suggestion
    assert rejected.details["customers"] == [outcome.suggestion.customer_a, outcome.suggestion.customer_b]
