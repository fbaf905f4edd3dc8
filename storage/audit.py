"""The append-only, tamper-evident audit log: who signed in, played, viewed, searched and exported what.

Each row's ``hash`` is HMAC-SHA256, under a key kept outside the database (``storage.secrets``), over
the previous row's hash and the canonical JSON of the row's own fields: changing, deleting or
inserting any row breaks the chain at that row, and whoever can write the database but not read
the key cannot forge a chain that verifies. Rows written before the chain was keyed (migration
0008) keep their plain SHA-256 hashes (scheme "sha256"): re-hashing them would launder them. They
prove only that nobody changed them without recomputing the chain from there on.

A chain stays valid when its newest rows are cut off or the file is put back to an older copy, so
each commit also checkpoints the head outside the database (``storage.audit_checkpoints``).
Database triggers (migrations 0003, 0008) refuse UPDATE, DELETE and REPLACE; the chain catches
changes made around them.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TextIO, get_args

from sqlalchemy import Select, event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.access import Permission, Principal, require
from storage.audit_checkpoints import Checkpoint, CheckpointLog
from storage.audit_subjects import Subject, describe
from storage.db import Database, read_scope, secrets_of, session_scope, take_turns
from storage.errors import InvalidValue, StorageError
from storage.models import AuditEntry, utc_now
from storage.secrets import SecretStore
from storage.services import _as_utc

__all__ = [
    "AUDIT_ACTIONS",
    "COMMAND_LINE",
    "GENESIS_HASH",
    "KEYED",
    "UNKNOWN_USER",
    "acting_name",
    "LEGACY",
    "AuditAction",
    "AuditRecord",
    "AuditVerification",
    "ProblemKind",
    "append_event",
    "export_audit_csv",
    "list_audit",
    "record_event",
    "record_read",
    "verify_audit_chain",
    "verify_audit_csv",
]

AuditAction = Literal[
    "sign_in",
    "sign_in_failed",
    "call_played",
    "transcript_viewed",
    "search_run",
    "export",
    "user_changed",
    "form_created",
    "evaluation_saved",
    "evaluation_submitted",
    "evaluation_acknowledged",
    "evaluation_disputed",
    # A dispute's steps (``storage.disputes``): the message's id and the status, never its text.
    "dispute_answered",
    "dispute_replied",
    "evaluation_rescored",  # with the score before and after and the questions changed
    "dispute_upheld",
    "dispute_resolved",
    "comment_added",
    "comment_edited",  # by its author: where and to whom, never the text
    "comment_deleted",
    "speaker_corrected",
    # Reads of a person's data (with "call_played" and "transcript_viewed" above):
    "customer_looked_up",  # a lookup's matches were shown
    "customer_viewed",  # one customer's identities
    "history_viewed",  # one customer's conversations (and, on the command line, their transcripts)
    "thread_read",  # the messages of one chat or e-mail thread
    "audio_fetched",  # a call's audio bytes were served
    "audio_exported",  # a call's audio as a file: which copy (redacted, or original when none was)
    # Compliance (``storage.holds``, ``storage.retention``, ``storage.deletion``): counts, never content.
    "hold_placed",
    "hold_release_requested",
    "hold_released",  # the second compliance user approved the release
    "retention_policy_set",
    "retention_policy_removed",
    "deletion_previewed",  # a dry run: what would be deleted, counted
    "data_deleted",  # retention or an erasure: what was deleted, counted
    # Unredacted access (the READ_UNREDACTED grant), each with the reason the user gave:
    "original_audio_fetched",  # a call's original audio, not its redacted copy
    "unredacted_transcript_viewed",  # a transcript with what redaction replaced
    "unredacted_export",  # a transcript exported with what redaction replaced
    "original_audio_exported",  # a call's original audio exported as a file
    # A reviewer's corrections to redaction (types and word counts, never the words):
    "redaction_marked",  # a missed span redacted
    "redaction_unmarked",  # a false finding shown again (needs the unredacted grant and a reason)
    # Agents' voiceprints (``storage.agent_voices``): seconds and calls, never the vector.
    "voiceprint_enrolled",  # a call's share set, replaced or taken out
    "voiceprint_removed",  # by an admin, whole
    "voiceprints_listed",
    "calls_listed",  # a page of the call list, or the next call to review: the filters, never the rows
    "call_assigned",  # a call given to a coach to review (or taken back): the coach before and after
    # Customer merges (``storage.merge_review``): ids and counts; the evidence stays in its row.
    "merge_suggestions_listed",  # the pending suggestions with their evidence were shown
    "customer_merges_listed",  # the merges that stand, with both customers' names
    "customers_merged",  # by hand or by accepting a suggestion
    "merge_suggestion_rejected",
    "customer_merge_undone",
    "agent_team_set",  # an admin put an agent in a team, or took them out of one
    "team_viewed",  # the team view: its period, team and how many agents it showed
    # Evaluations read (an evaluation is personal data about its agent): the ids, never the answers.
    "evaluations_listed",
    "evaluation_viewed",
    "disputes_listed",  # the open disputes shown: the evaluations' ids, never the messages
    "dispute_viewed",  # one evaluation's dispute thread read
    "customer_agents_viewed",  # who knows a customer: the agents' ids, never their conversations
    # Contact reasons (``storage.contact_reasons``): labels and rules by name, never a conversation.
    "contact_label_defined",
    "contact_rule_added",
    "contact_rule_removed",
    "contact_labelled",  # a person accepted or corrected a conversation's reason and outcome
    "contact_reasons_suggested",  # what was suggested for a conversation, and by which rule or model
    "reason_model_trained",  # the version, its accuracy and the label counts
    # Follow-ups (``storage.followups``): ids, whom for and due, never their text.
    "follow_up_added",
    "follow_up_done",
    "follow_ups_listed",  # a person's, a customer's or a conversation's follow-ups were shown
    # Trackers (``storage.trackers``): the query and how many conversations it tagged.
    "tracker_added",
    "tracker_removed",
    "tracker_tags_viewed",  # the trackers that tagged one call
    "tracker_alerts_viewed",  # a user's unseen alerts: the conversations' ids
    "response_targets_viewed",  # response targets: the filters and counts per status, never the contacts
    "figures_viewed",  # channel and agent figures: the period, grouping and filters, never the numbers
    "surveys_imported",  # survey answers imported: counts, never the scores or comments
]
AUDIT_ACTIONS: tuple[AuditAction, ...] = get_args(AuditAction)

GENESIS_HASH = "0" * 64
KEYED = "hmac-sha256"  # every row written since migration 0008
LEGACY = "sha256"  # rows written before: plain SHA-256, verified as they were written
_KEY_NAME = "audit"  # the chain's key in the ``SecretStore``: secrets/audit.key
# Who the log names for changes made with the ``earshot`` command, by someone holding the database file.
COMMAND_LINE = "(command line)"
# Who the log names for a failed sign-in with a name that is no account: what was typed may be a
# password typed into the wrong field, and the log keeps everything for good.
UNKNOWN_USER = "(unknown user)"
_CSV_FIELDS = (
    "id",
    "at",
    "user_id",
    "username",
    "action",
    "target",
    "details",
    "prev_hash",
    "hash",
    "scheme",
)
_WRITE_ATTEMPTS = 3
_PENDING_HEAD = "earshot_audit_head"  # Session.info: the newest row this transaction appended

ProblemKind = Literal["missing_rows", "unlinked", "changed", "unkeyed", "rolled_back", "cut_tail"]


@dataclass(frozen=True)
class AuditRecord:
    id: int
    at: datetime
    user_id: int | None
    username: str
    action: str
    target: str | None
    details: dict[str, Any]
    prev_hash: str
    hash: str
    scheme: str  # KEYED or LEGACY

    @property
    def about(self) -> str | None:
        """What the target is, in words ("Emma de Vries"), when the row says."""
        about = self.details.get("about")
        return about if isinstance(about, str) else None


@dataclass(frozen=True)
class AuditVerification:
    ok: bool
    rows_checked: int
    legacy_rows: int  # rows hashed before the chain was keyed (plain SHA-256)
    first_bad_id: int | None  # the first row that was changed, removed or rolled back
    kind: ProblemKind | None
    problem: str | None  # what happened where, in a sentence; None when ok


def acting_name(who: Principal | None) -> str:
    """Who a change is recorded as: the signed-in user, or ``COMMAND_LINE`` for ``who`` None."""
    return who.username if who is not None else COMMAND_LINE


def record_read(
    db: Database,
    who: Principal | None,
    action: AuditAction,
    subject: Subject | None,
    details: Mapping[str, Any] | None = None,
) -> int:
    """Audit a read of a person's data, before it is handed over. ``who`` None: the command line."""
    return record_event(db, who, action, subject, details, username=COMMAND_LINE)


def record_event(
    db: Database,
    actor: Principal | None,
    action: AuditAction,
    target: str | Subject | None = None,
    details: Mapping[str, Any] | None = None,
    *,
    username: str | None = None,
) -> int:
    """Append one event in its own transaction and return its id. ``actor`` None: nobody is signed
    in (a failed sign-in names the ``username`` typed; the command line names ``COMMAND_LINE``)."""
    for attempt in range(_WRITE_ATTEMPTS):
        try:
            with session_scope(db) as session:
                return append_event(session, actor, action, target, details, username=username)
        except IntegrityError:
            # Only PostgreSQL gets here: two first-ever rows raced (no last row to lock), and the
            # unique prev_hash refused the second. The retry links it after the first.
            if attempt == _WRITE_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def append_event(
    session: Session,
    actor: Principal | None,
    action: AuditAction,
    target: str | Subject | None = None,
    details: Mapping[str, Any] | None = None,
    *,
    username: str | None = None,
) -> int:
    """Append one event inside the caller's write transaction, so a change and its audit row commit
    together. The caller must hold a ``session_scope`` (SQLite: BEGIN IMMEDIATE serialises writers;
    PostgreSQL: ``take_turns`` here, so a second writer waits and links after the first's row).
    A ``Subject`` target is written as "kind:id" with what it is in words as ``details["about"]``."""
    if action not in AUDIT_ACTIONS:
        raise InvalidValue(f"audit action {action!r} is not one of {', '.join(AUDIT_ACTIONS)}")
    name = actor.username if actor is not None else username
    if not name:
        raise InvalidValue("an audit event needs the signed-in user or the username that was tried")
    if isinstance(target, Subject):
        details = {"about": describe(session, target), **(details or {})}
        target = target.target
    try:
        # A JSON round trip now makes the hash cover exactly what the database will give back.
        plain_details = json.loads(json.dumps(dict(details or {}), ensure_ascii=False))
    except (TypeError, ValueError) as error:
        raise InvalidValue(f"audit details for {action} are not JSON: {error}") from error
    take_turns(session, "audit_log")
    last = session.execute(
        select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)
    ).one_or_none()
    row = AuditEntry(
        # Ids are given, not drawn from a sequence, so they are gapless and part of the hash.
        id=last.id + 1 if last is not None else 1,
        at=utc_now(),
        user_id=actor.user_id if actor is not None else None,
        username=name,
        action=action,
        target=target,
        details=plain_details,
        prev_hash=last.hash if last is not None else GENESIS_HASH,
        scheme=KEYED,
    )
    row.hash = _hash_of(secrets_of(session).key(_KEY_NAME), _record(row))
    session.add(row)
    session.flush()
    session.info[_PENDING_HEAD] = Checkpoint(rows=row.id, hash=row.hash, at=row.at)
    return row.id


@event.listens_for(Session, "after_commit")
def _checkpoint_after_commit(session: Session) -> None:
    """The head is checkpointed only once its rows are committed, so no checkpoint names a row that
    a rollback took back."""
    head = session.info.pop(_PENDING_HEAD, None)
    if head is not None:
        CheckpointLog(secrets_of(session).folder).append(head)


@event.listens_for(Session, "after_rollback")
def _forget_head(session: Session) -> None:
    session.info.pop(_PENDING_HEAD, None)


def _hash_of(key: bytes | None, record: AuditRecord) -> str:
    """The row's hash by its scheme: HMAC-SHA256 under ``key`` (KEYED), or plain SHA-256 (LEGACY)."""
    canonical = json.dumps(
        {
            "id": record.id,
            "at": _as_utc(record.at).isoformat(timespec="microseconds"),
            "user_id": record.user_id,
            "username": record.username,
            "action": record.action,
            "target": record.target,
            "details": record.details,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    message = (record.prev_hash + canonical).encode()
    if record.scheme == LEGACY:
        return hashlib.sha256(message).hexdigest()
    if key is None:
        raise StorageError("a keyed audit row cannot be hashed without the audit key")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def verify_audit_chain(db: Database) -> AuditVerification:
    """Recompute every hash in id order and hold the log against its checkpoints; stop at the first
    row that was changed, removed or rolled back."""
    # Checkpoints first: each is written after its commit, so the snapshot read next holds its row.
    heads = CheckpointLog(db.secrets.folder).heads()
    with read_scope(db) as session:
        rows = session.execute(
            select(AuditEntry).order_by(AuditEntry.id).execution_options(yield_per=1000)
        ).scalars()
        return _verify((_record(row) for row in rows), db.secrets, heads, whole_log=True)


def verify_audit_csv(stream: TextIO, secrets: SecretStore) -> AuditVerification:
    """Check a copy made by ``export_audit_csv``: its chain (keyed rows need the key in ``secrets``)
    and the checkpoints that fall inside it. A copy of part of the log is checked from its first row on."""
    heads = CheckpointLog(secrets.folder).heads()
    records = (_csv_record(line) for line in csv.DictReader(stream))
    return _verify(records, secrets, heads, whole_log=False)


def _verify(
    records: Iterable[AuditRecord], secrets: SecretStore, heads: Mapping[int, str], *, whole_log: bool
) -> AuditVerification:
    key = secrets.existing_key(_KEY_NAME)  # checking must not make a new key
    expected_id, expected_prev = 1, GENESIS_HASH
    checked = legacy = 0
    keyed_seen = False
    for record in records:
        if checked == 0 and not whole_log:
            expected_id, expected_prev = record.id, record.prev_hash
        checked += 1
        if record.scheme == KEYED and key is None:
            raise StorageError(
                f"the audit key is missing from {secrets.folder}: rows written with it cannot be checked"
            )
        found = _problem_at(record, expected_id, expected_prev, key, keyed_seen, heads)
        if found is not None:
            return AuditVerification(False, checked, legacy, record.id, *found)
        keyed_seen = keyed_seen or record.scheme == KEYED
        legacy += record.scheme == LEGACY
        expected_id, expected_prev = record.id + 1, record.hash
    newest = max(heads, default=0)
    if whole_log and newest >= expected_id:
        problem = f"cut tail: rows {expected_id}..{newest} are missing (a checkpoint saw row {newest})"
        return AuditVerification(False, checked, legacy, expected_id, "cut_tail", problem)
    return AuditVerification(True, checked, legacy, None, None, None)


def _problem_at(
    record: AuditRecord,
    expected_id: int,
    expected_prev: str,
    key: bytes | None,
    keyed_seen: bool,
    heads: Mapping[int, str],
) -> tuple[ProblemKind, str] | None:
    row = record.id
    if row != expected_id:
        return (
            "missing_rows",
            f"rows {expected_id}..{row - 1} are missing (row {row} follows {expected_id - 1})",
        )
    if record.prev_hash != expected_prev:
        return "unlinked", f"row {row} does not link to the row before it (a row was changed or removed)"
    if record.scheme not in (KEYED, LEGACY) or (record.scheme == LEGACY and keyed_seen):
        # Only rows from before the chain was keyed are plain SHA-256; a later one was hashed by
        # someone without the key, to pass a changed row off as an old one.
        return "unkeyed", f"row {row} is not hashed with the audit key, yet rows before it are"
    if record.hash != _hash_of(key, record):
        how = "its keyed hash does not match" if record.scheme == KEYED else "its hash no longer matches"
        return "changed", f"row {row} was changed after it was written ({how})"
    if heads.get(row, record.hash) != record.hash:
        return "rolled_back", f"rolled back or rewritten at row {row}: a checkpoint saw another row {row}"
    return None


def list_audit(
    db: Database,
    principal: Principal,
    *,
    username: str | None = None,
    action: AuditAction | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 200,
    offset: int = 0,
) -> list[AuditRecord]:
    """Newest events first, for the compliance page."""
    require(principal, Permission.READ_AUDIT_LOG)
    if not 1 <= limit <= 10_000:
        raise InvalidValue(f"limit must be between 1 and 10000, not {limit}")
    query = _filtered(select(AuditEntry), username, action, since, until)
    with read_scope(db) as session:
        rows = session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit).offset(offset)).all()
        return [_record(row) for row in rows]


def export_audit_csv(
    db: Database,
    actor: Principal | None,
    out: TextIO,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> int:
    """Write the log (oldest first, hashes included, so the copy can be checked on its own) as CSV and
    return the number of rows. The export is itself audited. ``actor`` None: the command line."""
    if actor is not None:
        require(actor, Permission.READ_AUDIT_LOG)
        require(actor, Permission.EXPORT)
    writer = csv.writer(out)
    writer.writerow(_CSV_FIELDS)
    count = 0
    query = _filtered(select(AuditEntry), None, None, since, until).order_by(AuditEntry.id)
    with read_scope(db) as session:
        for row in session.scalars(query.execution_options(yield_per=1000)):
            record = _record(row)
            writer.writerow(
                [
                    record.id,
                    record.at.isoformat(timespec="microseconds"),
                    record.user_id if record.user_id is not None else "",
                    record.username,
                    record.action,
                    record.target or "",
                    json.dumps(record.details, sort_keys=True, ensure_ascii=False),
                    record.prev_hash,
                    record.hash,
                    record.scheme,
                ]
            )
            count += 1
    details = {
        "rows": count,
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
    }
    record_event(db, actor, "export", "audit_log", details, username=COMMAND_LINE)
    return count


def _filtered(
    query: Select[Any],
    username: str | None,
    action: str | None,
    since: datetime | None,
    until: datetime | None,
) -> Select[Any]:
    if username is not None:
        query = query.where(AuditEntry.username == username.strip().lower())
    if action is not None:
        query = query.where(AuditEntry.action == action)
    if since is not None:
        query = query.where(AuditEntry.at >= _as_utc(since))
    if until is not None:
        query = query.where(AuditEntry.at < _as_utc(until))
    return query


def _record(row: AuditEntry) -> AuditRecord:
    return AuditRecord(
        id=row.id,
        at=_as_utc(row.at),
        user_id=row.user_id,
        username=row.username,
        action=row.action,
        target=row.target,
        details=dict(row.details),
        prev_hash=row.prev_hash,
        hash=row.hash,
        scheme=row.scheme,
    )


def _csv_record(line: Mapping[str, str]) -> AuditRecord:
    """A row of ``export_audit_csv`` read back (an empty target or user id was None)."""
    try:
        return AuditRecord(
            id=int(line["id"]),
            at=datetime.fromisoformat(line["at"]),
            user_id=int(line["user_id"]) if line["user_id"] else None,
            username=line["username"],
            action=line["action"],
            target=line["target"] or None,
            details=json.loads(line["details"]),
            prev_hash=line["prev_hash"],
            hash=line["hash"],
            scheme=line.get("scheme") or LEGACY,
        )
    except (KeyError, TypeError, ValueError) as error:
        raise InvalidValue(f"not an audit export: a row cannot be read ({error})") from error
