"""The suggested contact reason and outcome of one conversation, for a person to accept or correct.

Per label set, the trained model speaks once there is one (``earshot reasons train``); before that,
the first of the admin's rules (in the order they were written) whose search matches. Computed on
demand, not by the worker: rules are edited and models retrained at any time, and a stored
suggestion would then be stale; one indexed search per rule over a single conversation and one
model prediction cost milliseconds, and chats and e-mails, which no worker job touches, get one too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from earshot.reason_classifier import predict
from earshot.settings import Settings
from storage.access import Permission, Principal, require_unless_command_line
from storage.audit import record_read
from storage.audit_subjects import Subject
from storage.contact_reasons import (
    LABEL_SETS,
    LabelSet,
    conversation_text,
    latest_models,
    matching_rules,
)
from storage.db import Database, read_scope
from storage.errors import NotFound
from storage.models import Thread

__all__ = ["Suggestion", "suggest"]


@dataclass(frozen=True)
class Suggestion:
    label_set: LabelSet
    label: str
    source: Literal["model", "rule"]
    basis: str  # "model v3 (cross-validated accuracy 0.91)" or 'rule 4: "charged twice" OR refund*'
    probability: float | None  # the model's; None for a rule


def suggest(
    db: Database, settings: Settings, who: Principal | None, thread_id: int
) -> dict[LabelSet, Suggestion]:
    """What to suggest for each label set that has a suggestion; audited as a read of the
    conversation (what was suggested and why, never its words)."""
    require_unless_command_line(who, Permission.LOOKUP_CUSTOMERS)
    with read_scope(db) as session:
        if session.get(Thread, thread_id) is None:
            raise NotFound(f"no conversation with id {thread_id}")
        models = latest_models(session)
        text = conversation_text(session, thread_id) if models else ""
        rules = matching_rules(session, thread_id)
    found: dict[LabelSet, Suggestion] = {}
    for label_set in LABEL_SETS:
        model = models.get(label_set)
        prediction = predict(settings, model, text) if model is not None else None
        if model is not None and prediction is not None:
            found[label_set] = Suggestion(
                label_set,
                prediction.label,
                "model",
                f"model v{model.version} (cross-validated accuracy {model.accuracy:.2f})",
                prediction.probability,
            )
            continue
        rule = next((match for match in rules if match.label.label_set == label_set), None)
        if rule is not None:
            found[label_set] = Suggestion(
                label_set, rule.label.name, "rule", f"rule {rule.rule_id}: {rule.query}", None
            )
    record_read(
        db,
        who,
        "contact_reasons_suggested",
        Subject("thread", thread_id),
        {s.label_set: {"label": s.label, "by": s.basis} for s in found.values()},
    )
    return found
