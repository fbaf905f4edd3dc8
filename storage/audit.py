"""The append-only, tamper-evident audit log: who signed in, played, viewed, searched and exported what.

Each row's ``hash`` is SHA-256 over the previous row's hash and the canonical JSON of the row's own
fields, so changing, deleting or inserting any row breaks the chain at that row. Database triggers
(migration 0003) refuse UPDATE and DELETE; the chain catches changes made around them.
The chain cannot tell that rows were cut off its end; exported copies (with their hashes) can.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TextIO, get_args

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.access import Permission, Principal, require
from storage.db import Database, read_scope, session_scope
from storage.errors import InvalidValue
from storage.models import AuditEntry, utc_now
from storage.services import _as_utc

__all__ = [
    "AUDIT_ACTIONS",
    "COMMAND_LINE",
    "GENESIS_HASH",
    "AuditAction",
    "AuditRecord",
    "AuditVerification",
    "append_event",
    "export_audit_csv",
    "list_audit",
    "record_event",
    "verify_audit_chain",
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
    "comment_added",
    "speaker_corrected",
    "audio_fetched",
]
AUDIT_ACTIONS: tuple[AuditAction, ...] = get_args(AuditAction)

GENESIS_HASH = "0" * 64
# Who the log names for changes made with the ``earshot`` command, by someone holding the database file.
COMMAND_LINE = "(command line)"
_CSV_FIELDS = ("id", "at", "user_id", "username", "action", "target", "details", "prev_hash", "hash")
_WRITE_ATTEMPTS = 3


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


@dataclass(frozen=True)
class AuditVerification:
    ok: bool
    rows_checked: int
    first_bad_id: int | None  # the first row whose hash or link does not match
    problem: str | None  # why, in a sentence; None when ok


def record_event(
    db: Database,
    actor: Principal | None,
    action: AuditAction,
    target: str | None = None,
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
    target: str | None = None,
    details: Mapping[str, Any] | None = None,
    *,
    username: str | None = None,
) -> int:
    """Append one event inside the caller's write transaction, so a change and its audit row commit
    together. The caller must hold a ``session_scope`` (SQLite: BEGIN IMMEDIATE serialises writers;
    PostgreSQL: the last row is locked FOR UPDATE here, so a second writer waits and links after it)."""
    if action not in AUDIT_ACTIONS:
        raise InvalidValue(f"audit action {action!r} is not one of {', '.join(AUDIT_ACTIONS)}")
    name = actor.username if actor is not None else username
    if not name:
        raise InvalidValue("an audit event needs the signed-in user or the username that was tried")
    try:
        # A JSON round trip now makes the hash cover exactly what the database will give back.
        plain_details = json.loads(json.dumps(dict(details or {}), ensure_ascii=False))
    except (TypeError, ValueError) as error:
        raise InvalidValue(f"audit details for {action} are not JSON: {error}") from error
    last = session.execute(
        select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1).with_for_update()
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
    )
    row.hash = _hash_of(
        row.prev_hash, row.id, row.at, row.user_id, row.username, row.action, row.target, row.details
    )
    session.add(row)
    session.flush()
    return row.id


def _hash_of(
    prev_hash: str,
    row_id: int,
    at: datetime,
    user_id: int | None,
    username: str,
    action: str,
    target: str | None,
    details: dict[str, Any],
) -> str:
    canonical = json.dumps(
        {
            "id": row_id,
            "at": _as_utc(at).isoformat(timespec="microseconds"),
            "user_id": user_id,
            "username": username,
            "action": action,
            "target": target,
            "details": details,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


def verify_audit_chain(db: Database) -> AuditVerification:
    """Recompute every hash in id order; stop at the first row that does not match."""
    expected_prev = GENESIS_HASH
    expected_id = 1
    checked = 0
    with read_scope(db) as session:
        for row in session.execute(
            select(AuditEntry).order_by(AuditEntry.id).execution_options(yield_per=1000)
        ).scalars():
            checked += 1
            problem = None
            if row.id != expected_id:
                problem = (
                    f"rows {expected_id}..{row.id - 1} are missing (row {row.id} follows {expected_id - 1})"
                )
            elif row.prev_hash != expected_prev:
                problem = f"row {row.id} does not link to the row before it (a row was changed or removed)"
            elif row.hash != _hash_of(
                row.prev_hash, row.id, row.at, row.user_id, row.username, row.action, row.target, row.details
            ):
                problem = f"row {row.id} was changed after it was written (its hash no longer matches)"
            if problem is not None:
                return AuditVerification(ok=False, rows_checked=checked, first_bad_id=row.id, problem=problem)
            expected_prev = row.hash
            expected_id += 1
    return AuditVerification(ok=True, rows_checked=checked, first_bad_id=None, problem=None)


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
    )
