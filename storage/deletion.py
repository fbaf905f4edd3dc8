"""The one place that deletes a person's data: retention, erasure and any later path call ``delete``.

Why one place: a legal hold must stop every deletion, the audit log must record every deletion (as
counts, never content), and whatever is derived from a call (transcripts, comments, and later
redacted copies) must go with it. Derived data registers itself with ``register_derived`` instead
of each path knowing every table.

Rows go in one transaction; files (audio blobs, derived files) are removed only after it commits.
A crash in between leaves files that no row refers to, never a row without its file, and
``sweep_unreferenced_audio`` removes them later. Audio is content-addressed, so a blob is removed
only when no remaining recording with audio refers to it.

Evaluations outlive the call they scored: their ``recording_id`` becomes None and
``call_deleted_at`` says when. Audit rows are never deleted; the deletion's own row says what went.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Collection, Sequence
from contextlib import suppress
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Literal

from sqlalchemy import delete as delete_rows
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from storage.access import Principal
from storage.audit import COMMAND_LINE, AuditAction, append_event
from storage.blobs import BlobStore
from storage.db import Database, read_scope, session_scope
from storage.errors import PermissionDenied
from storage.holds import Coverage, covering_holds
from storage.models import (
    CallAssignment,
    CallComment,
    Customer,
    CustomerMerge,
    Evaluation,
    FollowUp,
    Identity,
    Job,
    MergeSuggestion,
    Message,
    MessageAttachment,
    Recording,
    Thread,
    ThreadIdentity,
    TrackerMatch,
    Transcript,
    utc_now,
)
from storage.services import delete_transcript_rows

__all__ = [
    "DERIVED_DATA_MODULES",
    "DeletionPlan",
    "DeletionReport",
    "DerivedData",
    "DerivedRemoval",
    "HeldByLegalHold",
    "Purpose",
    "delete",
    "register_derived",
    "sweep_unreferenced_audio",
]

Purpose = Literal["retention", "erasure"]
# Audio younger than this is never swept: an ingest writes the blob before it commits the row.
SWEEP_GRACE = timedelta(hours=1)


class HeldByLegalHold(PermissionDenied):
    """Something about to be deleted is under a legal hold; the message names the hold(s)."""


@dataclass(frozen=True)
class DerivedRemoval:
    """What one kind of derived data removed inside the deletion's transaction: rows now, files after."""

    rows: int
    files: tuple[Path, ...] = ()


@dataclass(frozen=True)
class DerivedData:
    """Something stored for a call that must go when the call goes (a transcript, a redacted copy).
    ``audio``: it is audio, so it goes too when a retention policy removes only a call's audio."""

    name: str
    remove: Callable[[Session, Sequence[int]], DerivedRemoval]  # (session, recording ids)
    audio: bool = False


_DERIVED: list[DerivedData] = []
# The modules that register derived data, imported before any deletion: the process that deletes
# (the command line, the worker, the app) may never have imported them otherwise. A module that
# stores derived data of a call (redacted copies, voiceprint shares) calls ``register_derived`` at
# import and adds its name here.
DERIVED_DATA_MODULES: tuple[str, ...] = ("storage.agent_voices",)


def register_derived(derived: DerivedData) -> None:
    """Called once, at import, by a module listed in ``DERIVED_DATA_MODULES``."""
    if any(known.name == derived.name for known in _DERIVED):
        raise ValueError(f"derived data {derived.name!r} is registered twice")
    _DERIVED.append(derived)


@dataclass(frozen=True)
class DeletionPlan:
    """What to delete: whole conversations (a call with its recording, a chat or e-mail thread with
    its messages), or with ``audio_only`` only the audio of the calls among them (their transcripts
    stay); for an erasure also ``customer_ids``, the customers themselves with their identities."""

    thread_ids: frozenset[int]
    customer_ids: frozenset[int] = frozenset()
    audio_only: bool = False

    def __post_init__(self) -> None:
        if self.audio_only and self.customer_ids:
            raise ValueError("erasing a customer deletes everything, not only audio")


@dataclass(frozen=True)
class DeletionReport:
    """Counts, never content: this is what the audit row records too."""

    dry_run: bool
    conversations: int  # threads deleted (calls, chats, e-mails); 0 when only audio went
    calls: int  # recordings deleted, or whose audio was deleted
    audio_files: int  # blobs that no remaining recording refers to
    transcripts: int
    messages: int
    identities: int
    customers: int
    evaluations_kept: int  # evaluations that now say their call was deleted
    derived: dict[str, int] = field(default_factory=dict)  # rows per registered kind of derived data
    held_skipped: int = 0  # conversations a hold kept (retention skips them; erasure refuses)
    holds: tuple[int, ...] = ()  # the holds that kept them

    def as_details(self) -> dict[str, object]:
        return {
            "conversations": self.conversations,
            "calls": self.calls,
            "audio_files": self.audio_files,
            "transcripts": self.transcripts,
            "messages": self.messages,
            "identities": self.identities,
            "customers": self.customers,
            "evaluations_kept": self.evaluations_kept,
            **{f"derived_{name}": rows for name, rows in self.derived.items()},
            "held_skipped": self.held_skipped,
            "holds": list(self.holds),
        }


def delete(
    db: Database,
    blobs: BlobStore,
    plan: DeletionPlan,
    *,
    who: Principal | None,
    purpose: Purpose,
    target: str,
    dry_run: bool,
    skip_held: bool,
    username: str = COMMAND_LINE,
    today: date | None = None,
) -> DeletionReport:
    """Delete what ``plan`` names, unless a legal hold covers it: with ``skip_held`` (retention) the
    held conversations are left and counted, without it (erasure) nothing is deleted and
    ``HeldByLegalHold`` names the holds. A dry run deletes nothing and reports what would go.
    Either way the audit log gets one row of counts (``deletion_previewed`` or ``data_deleted``),
    with ``target`` ("customer:12", "retention") and the ``purpose``. ``who`` None: nobody signed in,
    and the row names ``username`` (the command line, or the worker's schedule); callers check roles
    (the deletion does not know who may ask for what)."""
    if not plan.thread_ids and not plan.customer_ids:  # a retention run with nothing due: no row
        return DeletionReport(dry_run, 0, 0, 0, 0, 0, 0, 0, 0)
    for module in DERIVED_DATA_MODULES:
        importlib.import_module(module)
    today = today or utc_now().date()
    with session_scope(db) as session:
        coverage = covering_holds(session, plan.thread_ids, plan.customer_ids, today)
        if coverage and not skip_held:
            raise HeldByLegalHold(_refusal(coverage))
        held = frozenset[int]().union(*(c.thread_ids for c in coverage))
        plan = replace(plan, thread_ids=plan.thread_ids - held)
        files: list[Path] = []
        unreferenced: list[str] = []
        if dry_run:
            report = _count(session, plan, dry_run=True)
        else:
            report, files, unreferenced = _delete(session, plan)
        report = replace(report, held_skipped=len(held), holds=tuple(c.hold.id for c in coverage))
        if not plan.thread_ids and not plan.customer_ids:
            return report  # all of it held: a scheduled run would otherwise log the same hold hourly
        details = {"purpose": purpose, "audio_only": plan.audio_only, **report.as_details()}
        action: AuditAction = "deletion_previewed" if dry_run else "data_deleted"
        append_event(session, who, action, target, details, username=username)
    _remove_files(blobs, files, unreferenced)
    return report


def sweep_unreferenced_audio(db: Database, blobs: BlobStore, *, grace: timedelta = SWEEP_GRACE) -> int:
    """Remove audio blobs that no recording with audio refers to: what a crash between a deletion's
    commit and its file removal leaves, or a failed ingest. Blobs younger than ``grace`` are left
    (an ingest in progress). Returns how many files were removed."""
    with read_scope(db) as session:
        kept = _audio_in_use(session)
    cutoff = time.time() - grace.total_seconds()
    removed = 0
    for sha256, stored_at in list(blobs.stored()):
        if sha256 not in kept and stored_at < cutoff:
            blobs.delete(sha256)
            removed += 1
    return removed


# --- inside the transaction ---------------------------------------------------------------------


def _refusal(coverage: list[Coverage]) -> str:
    holds = "; ".join(f"hold {c.hold.id} ({c.hold.covers}: {c.hold.reason})" for c in coverage)
    return f"nothing was deleted: legal hold stands over part of it: {holds}"


def _recordings(session: Session, plan: DeletionPlan) -> list[tuple[int, str]]:
    """(recording id, blob) for each audio file of the calls: the original, and the redacted copy
    where redaction made one (it is the call's audio too: an erased customer's voice is in it)."""
    query = (
        select(Recording.id, Recording.sha256, Transcript.redacted_audio_sha256)
        .outerjoin(Transcript, Transcript.recording_id == Recording.id)
        .where(Recording.thread_id.in_(plan.thread_ids))
    )
    if plan.audio_only:
        query = query.where(Recording.audio_deleted_at.is_(None))
    return [
        (row.id, sha256)
        for row in session.execute(query)
        for sha256 in (row.sha256, row.redacted_audio_sha256)
        if sha256 is not None
    ]


def _audio_in_use(session: Session) -> set[str]:
    """The blobs that calls still play: originals whose audio is kept, and their redacted copies."""
    kept = Recording.audio_deleted_at.is_(None)
    originals = session.scalars(select(Recording.sha256).where(kept))
    copies = session.scalars(
        select(Transcript.redacted_audio_sha256)
        .join(Recording, Recording.id == Transcript.recording_id)
        .where(kept, Transcript.redacted_audio_sha256.is_not(None))
    )
    return {*originals, *copies}


def _count(session: Session, plan: DeletionPlan, *, dry_run: bool) -> DeletionReport:
    recordings = _recordings(session, plan)
    recording_ids = [rid for rid, _ in recordings]
    everything = not plan.audio_only

    def count(query: object) -> int:
        return session.scalar(query) or 0  # type: ignore[call-overload]

    return DeletionReport(
        dry_run=dry_run,
        conversations=count(select(func.count()).where(Thread.id.in_(plan.thread_ids))) if everything else 0,
        calls=len(recordings),
        audio_files=len({sha for _, sha in recordings}),
        transcripts=count(select(func.count()).where(Transcript.recording_id.in_(recording_ids)))
        if everything
        else 0,
        messages=count(select(func.count()).where(Message.thread_id.in_(plan.thread_ids)))
        if everything
        else 0,
        identities=count(select(func.count()).where(Identity.customer_id.in_(plan.customer_ids))),
        customers=count(select(func.count()).where(Customer.id.in_(plan.customer_ids))),
        evaluations_kept=count(select(func.count()).where(Evaluation.recording_id.in_(recording_ids)))
        if everything
        else 0,
    )


def _delete(session: Session, plan: DeletionPlan) -> tuple[DeletionReport, list[Path], list[str]]:
    """Delete the rows; return the derived files and the audio blobs to remove after the commit."""
    report = _count(session, plan, dry_run=False)
    recordings = _recordings(session, plan)
    recording_ids = [rid for rid, _ in recordings]
    files: list[Path] = []
    derived: dict[str, int] = {}
    for kind in _DERIVED:
        if kind.audio or not plan.audio_only:
            removal = kind.remove(session, recording_ids)
            derived[kind.name] = removal.rows
            files += removal.files
    now = utc_now()
    if plan.audio_only:
        session.execute(update(Recording).where(Recording.id.in_(recording_ids)).values(audio_deleted_at=now))
        session.execute(delete_rows(Job).where(Job.recording_id.in_(recording_ids)))
    else:
        _delete_conversations(session, plan.thread_ids, recording_ids, now)
        _delete_customers(session, plan.customer_ids)
    session.flush()
    audio = _unreferenced(session, {sha for _, sha in recordings})
    return replace(report, derived=derived, audio_files=len(audio)), files, audio


def _delete_conversations(
    session: Session, thread_ids: Collection[int], recording_ids: Sequence[int], now: datetime
) -> None:
    # Explicit deletes rather than ON DELETE CASCADE, so the search index's row triggers see each row.
    for recording_id in recording_ids:
        delete_transcript_rows(session, recording_id)
    session.execute(
        update(Evaluation)
        .where(Evaluation.recording_id.in_(recording_ids))
        .values(recording_id=None, call_deleted_at=now)
    )
    message_ids = select(Message.id).where(Message.thread_id.in_(thread_ids))
    for statement in (
        delete_rows(CallComment).where(CallComment.recording_id.in_(recording_ids)),
        delete_rows(Job).where(Job.recording_id.in_(recording_ids)),
        delete_rows(CallAssignment).where(CallAssignment.recording_id.in_(recording_ids)),
        delete_rows(Recording).where(Recording.id.in_(recording_ids)),
        delete_rows(MessageAttachment).where(MessageAttachment.message_id.in_(message_ids)),
        delete_rows(Message).where(Message.thread_id.in_(thread_ids)),
        delete_rows(ThreadIdentity).where(ThreadIdentity.thread_id.in_(thread_ids)),
        delete_rows(FollowUp).where(FollowUp.thread_id.in_(thread_ids)),
        delete_rows(TrackerMatch).where(TrackerMatch.thread_id.in_(thread_ids)),
        delete_rows(Thread).where(Thread.id.in_(thread_ids)),
    ):
        session.execute(statement)


def _delete_customers(session: Session, customer_ids: Collection[int]) -> None:
    if not customer_ids:
        return
    identity_ids = select(Identity.id).where(Identity.customer_id.in_(customer_ids))
    for statement in (
        delete_rows(ThreadIdentity).where(ThreadIdentity.identity_id.in_(identity_ids)),
        delete_rows(Identity).where(Identity.customer_id.in_(customer_ids)),
        delete_rows(MergeSuggestion).where(
            or_(MergeSuggestion.customer_a.in_(customer_ids), MergeSuggestion.customer_b.in_(customer_ids))
        ),
        # A merge's undo record names the merged customer's identities and name: it goes with them.
        delete_rows(CustomerMerge).where(
            or_(CustomerMerge.survivor_id.in_(customer_ids), CustomerMerge.merged_id.in_(customer_ids))
        ),
        delete_rows(Customer).where(Customer.id.in_(customer_ids)),
    ):
        session.execute(statement)


def _unreferenced(session: Session, sha256s: set[str]) -> list[str]:
    """Of these blobs, those no remaining call plays (after this transaction)."""
    return sorted(sha256s - _audio_in_use(session))


def _remove_files(blobs: BlobStore, files: Sequence[Path], sha256s: Sequence[str]) -> None:
    """After the commit: a blob that cannot be removed now is left for ``sweep_unreferenced_audio``."""
    for path in files:
        with suppress(OSError):
            path.unlink(missing_ok=True)
    for sha256 in sha256s:
        with suppress(OSError):
            blobs.delete(sha256)
