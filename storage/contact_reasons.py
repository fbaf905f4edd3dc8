"""Contact reason and outcome: the admin's two label sets, the rules that suggest a label from day one,
the label a person accepted or chose for each conversation (what trains the model and what figures
count), and the trained model versions with their measured accuracy.

A rule is a search in the transcript search syntax (``storage.query``): it is parsed when it is
written, so a rule that cannot run is refused at once with the parser's message, and it is matched
by the search index itself (``storage.search.threads_matching``), so a rule finds exactly what the
Search page finds for the same words. The model (``earshot.reason_classifier``) lives in a file;
only its version row is kept here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, get_args

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.access import Permission, Principal, require_unless_command_line
from storage.audit import COMMAND_LINE, AuditAction, acting_name, append_event
from storage.audit_subjects import Subject
from storage.db import Database, read_scope, session_scope
from storage.errors import InvalidValue, NotFound
from storage.limits import check_length
from storage.models import (
    ContactLabel,
    ContactLabelling,
    ContactRule,
    Message,
    ReasonModel,
    Recording,
    Thread,
    Transcript,
    Utterance,
    as_utc,
    utc_now,
)
from storage.query import QueryError, parse_query
from storage.search import SearchFilters, threads_matching

__all__ = [
    "LABEL_SETS",
    "Label",
    "LabelCount",
    "LabelSet",
    "Labelling",
    "ModelVersion",
    "Rule",
    "RuleMatch",
    "add_rule",
    "call_conversation",
    "conversation_text",
    "conversation_texts",
    "define_label",
    "defined_labels",
    "label_conversation",
    "label_counts",
    "labelled_examples",
    "labelling_of",
    "latest_models",
    "list_rules",
    "matching_rules",
    "record_model",
    "remove_rule",
]

LabelSet = Literal["reason", "outcome"]
LABEL_SETS: tuple[LabelSet, ...] = get_args(LabelSet)
LABEL_MAX_CHARS = 100
RULE_MAX_CHARS = 1000  # the parser's own limit on a query
_BATCH = 500  # conversations read per query when training: well inside any backend's parameter limit


@dataclass(frozen=True)
class Label:
    id: int
    label_set: LabelSet
    name: str


@dataclass(frozen=True)
class Rule:
    id: int
    label: Label
    query: str
    created_by: str
    created_at: datetime  # UTC


@dataclass(frozen=True)
class RuleMatch:
    rule_id: int
    label: Label
    query: str


@dataclass(frozen=True)
class LabelCount:
    label: Label
    labelled: int  # conversations a person gave this label
    rules: int


@dataclass(frozen=True)
class Labelling:
    thread_id: int
    reason: str | None
    outcome: str | None
    suggested_reason: str | None  # what was suggested when the person chose: differs when corrected
    suggested_outcome: str | None
    labelled_by: str
    labelled_at: datetime  # UTC


@dataclass(frozen=True)
class ModelVersion:
    label_set: LabelSet
    version: int
    accuracy: float  # mean cross-validated accuracy on the labelled conversations
    folds: int
    examples: int
    label_counts: Mapping[str, int]
    file_name: str
    trained_by: str
    trained_at: datetime  # UTC


def define_label(db: Database, who: Principal | None, label_set: str, name: str) -> Label:
    """Add ``name`` to a label set (an admin's); a label that exists already is returned as it is."""
    require_unless_command_line(who, Permission.MANAGE_SETTINGS)
    with session_scope(db) as session:
        return _label(session, who, _checked_set(label_set), name, create=True)


def add_rule(db: Database, who: Principal | None, label_set: str, label: str, query: str) -> Rule:
    """A rule suggesting ``label`` for conversations ``query`` matches; the label is defined if new.
    A query the search parser refuses raises ``InvalidValue`` with the parser's message."""
    require_unless_command_line(who, Permission.MANAGE_SETTINGS)
    checked_set = _checked_set(label_set)
    query = query.strip()
    check_length("a rule", query, RULE_MAX_CHARS)
    try:
        parse_query(query)
    except QueryError as e:
        raise InvalidValue(f"rule {query!r} is not a valid search: {e}") from None
    with session_scope(db) as session:
        found = _label(session, who, checked_set, label, create=True)
        row = ContactRule(label_id=found.id, query=query, created_by=acting_name(who))
        session.add(row)
        session.flush()
        _audit(
            session,
            who,
            "contact_rule_added",
            None,
            {"rule": row.id, checked_set: found.name, "query": query},
        )
        return _rule(row, found)


def list_rules(db: Database, who: Principal | None) -> list[Rule]:
    """Every rule, by label set, label and then the order they were written."""
    require_unless_command_line(who, Permission.MANAGE_SETTINGS)
    with read_scope(db) as session:
        return _rules(session)


def remove_rule(db: Database, who: Principal | None, rule_id: int) -> Rule:
    require_unless_command_line(who, Permission.MANAGE_SETTINGS)
    with session_scope(db) as session:
        row = session.get(ContactRule, rule_id)
        if row is None:
            raise NotFound(f"no contact reason rule with id {rule_id}")
        removed = _rule(row, _as_label(session.get_one(ContactLabel, row.label_id)))
        session.delete(row)
        _audit(
            session,
            who,
            "contact_rule_removed",
            None,
            {"rule": rule_id, removed.label.label_set: removed.label.name, "query": removed.query},
        )
        return removed


def defined_labels(db: Database, who: Principal | None) -> dict[LabelSet, list[str]]:
    """Each label set's labels by name: what a person may choose when labelling a conversation."""
    require_unless_command_line(who, Permission.LABEL_CONTACTS)
    with read_scope(db) as session:
        found: dict[LabelSet, list[str]] = {label_set: [] for label_set in LABEL_SETS}
        for row in session.scalars(select(ContactLabel).order_by(ContactLabel.name)):
            found[_checked_set(row.label_set)].append(row.name)
        return found


def label_counts(db: Database, who: Principal | None) -> list[LabelCount]:
    """Every label with how many conversations people gave it and how many rules suggest it."""
    require_unless_command_line(who, Permission.MANAGE_SETTINGS)
    with read_scope(db) as session:
        labelled: dict[int | None, int] = {}
        for column in (ContactLabelling.reason_id, ContactLabelling.outcome_id):
            for label_id, count in session.execute(
                select(column, func.count()).where(column.is_not(None)).group_by(column)
            ):
                labelled[label_id] = count
        rules = {
            label_id: count
            for label_id, count in session.execute(
                select(ContactRule.label_id, func.count()).group_by(ContactRule.label_id)
            )
        }
        labels = session.scalars(select(ContactLabel).order_by(ContactLabel.label_set, ContactLabel.name))
        return [LabelCount(_as_label(row), labelled.get(row.id, 0), rules.get(row.id, 0)) for row in labels]


def matching_rules(session: Session, thread_id: int) -> list[RuleMatch]:
    """The rules whose search matches the conversation, in the order they were written. The caller
    checks the reader's role and audits the read (``earshot.reason_suggestions``)."""
    return [
        RuleMatch(rule.id, rule.label, rule.query)
        for rule in sorted(_rules(session), key=lambda r: r.id)
        if thread_id in threads_matching(session, rule.query, SearchFilters(), within=(thread_id,))
    ]


def conversation_text(session: Session, thread_id: int) -> str:
    """What a conversation says, in order: a call's transcript (as redaction left it) or a thread's
    messages. Empty for a call not transcribed yet."""
    return conversation_texts(session, [thread_id]).get(thread_id, "")


def conversation_texts(session: Session, thread_ids: Sequence[int]) -> dict[int, str]:
    """``conversation_text`` of many conversations, two queries a batch rather than two each."""
    pieces: dict[int, list[str]] = {}
    for start in range(0, len(thread_ids), _BATCH):
        batch = thread_ids[start : start + _BATCH]
        said = session.execute(
            select(Recording.thread_id, Utterance.text)
            .join(Transcript, Transcript.id == Utterance.transcript_id)
            .join(Recording, Recording.id == Transcript.recording_id)
            .where(Recording.thread_id.in_(batch))
            .order_by(Recording.thread_id, Utterance.seq)
        )
        written = session.execute(
            select(Message.thread_id, Message.body)
            .where(Message.thread_id.in_(batch))
            .order_by(Message.thread_id, Message.sent_at, Message.id)
        )
        for thread_id, text in [*said, *written]:
            pieces.setdefault(thread_id, []).append(text)
    return {thread_id: "\n".join(texts) for thread_id, texts in pieces.items()}


def label_conversation(
    db: Database,
    who: Principal | None,
    thread_id: int,
    *,
    reason: str | None = None,
    outcome: str | None = None,
    suggested: Mapping[LabelSet, str] | None = None,
) -> Labelling:
    """A person's reason and/or outcome for a conversation (accepting a suggestion or correcting it);
    a set not given keeps what was chosen before. ``suggested``: what was shown to them, by set.
    The labels must be ones the admin defined."""
    require_unless_command_line(who, Permission.LABEL_CONTACTS)
    if reason is None and outcome is None:
        raise InvalidValue("give a reason, an outcome or both")
    suggested = suggested or {}
    with session_scope(db) as session:
        if session.get(Thread, thread_id) is None:
            raise NotFound(f"no conversation with id {thread_id}")
        row = session.get(ContactLabelling, thread_id) or ContactLabelling(thread_id=thread_id)
        chosen: dict[str, Any] = {}
        given: tuple[tuple[LabelSet, str | None], ...] = (("reason", reason), ("outcome", outcome))
        for label_set, name in given:
            if name is None:
                continue
            label = _label(session, who, label_set, name, create=False)
            hint = suggested.get(label_set)
            hint_id = _label(session, who, label_set, hint, create=False).id if hint else None
            setattr(row, f"{label_set}_id", label.id)
            setattr(row, f"suggested_{label_set}_id", hint_id)
            chosen[label_set] = label.name
            chosen[f"{label_set}_was_suggested"] = hint == label.name
        row.labelled_by = acting_name(who)
        row.labelled_at = utc_now()
        session.add(row)
        session.flush()
        _audit(session, who, "contact_labelled", Subject("thread", thread_id), chosen)
        return _labelling(session, row)


def labelling_of(db: Database, who: Principal | None, thread_id: int) -> Labelling | None:
    """What a person chose for the conversation, if anyone has."""
    require_unless_command_line(who, Permission.LOOKUP_CUSTOMERS)
    with read_scope(db) as session:
        row = session.get(ContactLabelling, thread_id)
        return None if row is None else _labelling(session, row)


def labelled_examples(session: Session, label_set: LabelSet) -> list[tuple[str, str]]:
    """(conversation text, accepted label) of every conversation labelled in ``label_set``, for
    training; conversations that say nothing (a call not transcribed) are left out."""
    column = ContactLabelling.reason_id if label_set == "reason" else ContactLabelling.outcome_id
    rows = session.execute(
        select(ContactLabelling.thread_id, ContactLabel.name)
        .join(ContactLabel, ContactLabel.id == column)
        .order_by(ContactLabelling.thread_id)
    ).all()
    texts = conversation_texts(session, [thread_id for thread_id, _ in rows])
    return [(texts[thread_id], name) for thread_id, name in rows if texts.get(thread_id, "").strip()]


def record_model(
    session: Session,
    who: Principal | None,
    label_set: LabelSet,
    *,
    accuracy: float,
    folds: int,
    label_counts: Mapping[str, int],
    file_name_of: Callable[[int], str],
) -> ModelVersion:
    """A new version row for ``label_set`` inside the caller's transaction (which writes the file
    ``file_name_of(version)`` names before committing), audited with its accuracy."""
    version = (
        session.scalar(select(func.max(ReasonModel.version)).where(ReasonModel.label_set == label_set)) or 0
    ) + 1
    row = ReasonModel(
        label_set=label_set,
        version=version,
        accuracy=accuracy,
        folds=folds,
        examples=sum(label_counts.values()),
        label_counts=dict(label_counts),
        file_name=file_name_of(version),
        trained_by=acting_name(who),
    )
    session.add(row)
    session.flush()
    _audit(
        session,
        who,
        "reason_model_trained",
        None,
        {
            "label_set": label_set,
            "version": version,
            "accuracy": round(accuracy, 4),
            "labels": dict(label_counts),
        },
    )
    return _model(row)


def latest_models(session: Session) -> dict[LabelSet, ModelVersion]:
    """The newest trained version of each label set that has one."""
    newest = (
        select(ReasonModel.label_set, func.max(ReasonModel.version).label("version"))
        .group_by(ReasonModel.label_set)
        .subquery()
    )
    rows = session.scalars(
        select(ReasonModel).join(
            newest, (newest.c.label_set == ReasonModel.label_set) & (newest.c.version == ReasonModel.version)
        )
    )
    return {model.label_set: model for model in map(_model, rows)}


def _audit(
    session: Session,
    who: Principal | None,
    action: AuditAction,
    subject: Subject | None,
    details: dict[str, Any],
) -> None:
    """A change's audit row in its own transaction; the command line is named as such."""
    append_event(session, who, action, subject, details, username=COMMAND_LINE)


def _checked_set(label_set: str) -> LabelSet:
    if label_set not in LABEL_SETS:
        raise InvalidValue(f"label set {label_set!r} is not one of {', '.join(LABEL_SETS)}")
    return label_set  # type: ignore[return-value]


def _label(session: Session, who: Principal | None, label_set: str, name: str, *, create: bool) -> Label:
    name = " ".join(name.split())
    if not name:
        raise InvalidValue(f"a {label_set} needs a name")
    check_length(f"a {label_set}'s name", name, LABEL_MAX_CHARS)
    row = session.scalar(
        select(ContactLabel).where(ContactLabel.label_set == label_set, ContactLabel.name == name)
    )
    if row is None and not create:
        known = session.scalars(
            select(ContactLabel.name).where(ContactLabel.label_set == label_set).order_by(ContactLabel.name)
        ).all()
        raise InvalidValue(
            f"{name!r} is not a defined {label_set}; defined: {', '.join(known) or 'none yet'}"
        )
    if row is None:
        row = ContactLabel(label_set=label_set, name=name)
        session.add(row)
        session.flush()
        _audit(session, who, "contact_label_defined", None, {label_set: name})
    return _as_label(row)


def _rules(session: Session) -> list[Rule]:
    rows = session.execute(
        select(ContactRule, ContactLabel)
        .join(ContactLabel, ContactLabel.id == ContactRule.label_id)
        .order_by(ContactLabel.label_set, ContactLabel.name, ContactRule.id)
    ).all()
    return [_rule(rule, _as_label(label)) for rule, label in rows]


def _as_label(row: ContactLabel) -> Label:
    return Label(row.id, _checked_set(row.label_set), row.name)


def _rule(row: ContactRule, label: Label) -> Rule:
    return Rule(row.id, label, row.query, row.created_by, as_utc(row.created_at))


def _labelling(session: Session, row: ContactLabelling) -> Labelling:
    def name(label_id: int | None) -> str | None:
        return None if label_id is None else session.get_one(ContactLabel, label_id).name

    return Labelling(
        thread_id=row.thread_id,
        reason=name(row.reason_id),
        outcome=name(row.outcome_id),
        suggested_reason=name(row.suggested_reason_id),
        suggested_outcome=name(row.suggested_outcome_id),
        labelled_by=row.labelled_by,
        labelled_at=as_utc(row.labelled_at),
    )


def _model(row: ReasonModel) -> ModelVersion:
    return ModelVersion(
        label_set=_checked_set(row.label_set),
        version=row.version,
        accuracy=row.accuracy,
        folds=row.folds,
        examples=row.examples,
        label_counts=dict(row.label_counts),
        file_name=row.file_name,
        trained_by=row.trained_by,
        trained_at=as_utc(row.trained_at),
    )


def call_conversation(db: Database, recording_id: int) -> int:
    """The conversation (thread) id of a call, so a call named by its file can be labelled."""
    with read_scope(db) as session:
        return session.get_one(Recording, recording_id).thread_id
