"""The work queue: the ``jobs`` table is the source of truth and workers claim rows atomically.

A claim is one ``UPDATE ... WHERE id = (SELECT ... LIMIT 1) RETURNING``: on SQLite (WAL) the write
lock serializes claims, on PostgreSQL ``FOR UPDATE SKIP LOCKED`` keeps concurrent claimers apart.
A worker that dies leaves its job ``running``; once the claim is older than ``stale_after`` the job
is claimed again, until it has used up its attempts.

This table stays the queue on PostgreSQL too, rather than procrastinate: ``bench/queue_claims.py``
measures a claim at about 7-11 ms (p50, one worker; every job done exactly once with 4 concurrent
workers), against seconds to minutes of transcription per job, and the tests run it on a real
server. procrastinate has no SQLite backend, so it would have been a second engine beside this one
(its own schema outside Alembic, an async worker); what it would add here is LISTEN/NOTIFY (a worker
polls every 2 s) and periodic tasks, neither of which a job needs today.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import String, and_, cast, func, literal, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from storage.db import Database, session_scope
from storage.errors import InvalidValue, NotFound
from storage.models import Job, as_utc

JobStatus = Literal["queued", "running", "done", "failed"]
# What a job does: transcribe a call, or (after a reviewer changed who its agent is) set again what
# the call gives its agent's voiceprint (``earshot.voice_enrolment``).
TRANSCRIBE = "transcribe"
ENROL_VOICE = "enrol_voice"
DEFAULT_STALE_AFTER = timedelta(minutes=30)


@dataclass(frozen=True)
class ClaimedJob:
    id: int
    recording_id: int
    stage: str
    attempts: int  # including this one
    max_attempts: int


def enqueue(session: Session, recording_id: int, stage: str = TRANSCRIBE, max_attempts: int = 3) -> int:
    """Add a job inside the caller's transaction, so a job exists exactly when its recording does."""
    job = Job(recording_id=recording_id, stage=stage, status="queued", attempts=0, max_attempts=max_attempts)
    session.add(job)
    session.flush()
    return job.id


def claim_next(
    db: Database, worker_id: str, stage: str = TRANSCRIBE, stale_after: timedelta = DEFAULT_STALE_AFTER
) -> ClaimedJob | None:
    """The oldest claimable job, now ``running`` for ``worker_id``; None when there is nothing to do."""
    now = datetime.now(UTC)
    stale = and_(Job.status == "running", Job.claimed_at < now - stale_after)
    with session_scope(db) as session:
        session.execute(
            update(Job)
            .where(Job.stage == stage, stale, Job.attempts >= Job.max_attempts)
            .values(
                status="failed",
                finished_at=now,
                error=literal("worker stopped responding after ")
                + cast(Job.attempts, String)
                + literal(" attempts"),
            )
            .execution_options(synchronize_session=False)
        )
        claimable = and_(Job.stage == stage, or_(Job.status == "queued", stale))
        oldest = (
            select(Job.id)
            .where(claimable)
            .order_by(Job.created_at, Job.id)
            .limit(1)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        row = session.execute(
            update(Job)
            # ``claimable`` again: PostgreSQL re-checks it on the row if a concurrent claim changed it.
            .where(Job.id == oldest, claimable)
            .values(status="running", claimed_by=worker_id, claimed_at=now, attempts=Job.attempts + 1)
            .returning(Job.id, Job.recording_id, Job.stage, Job.attempts, Job.max_attempts)
            .execution_options(synchronize_session=False)
        ).one_or_none()
    if row is None:
        return None
    return ClaimedJob(
        id=row.id,
        recording_id=row.recording_id,
        stage=row.stage,
        attempts=row.attempts,
        max_attempts=row.max_attempts,
    )


def heartbeat(db: Database, job_id: int) -> None:
    """A running job's worker is alive: push its claim forward so no other worker takes it over."""
    with session_scope(db) as session:
        session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == "running")
            .values(claimed_at=datetime.now(UTC))
            .execution_options(synchronize_session=False)
        )


def complete(db: Database, job_id: int) -> None:
    with session_scope(db) as session:
        job = _get(session, job_id)
        job.status = "done"
        job.error = None
        job.finished_at = datetime.now(UTC)


def fail(db: Database, job_id: int, error: str) -> JobStatus:
    """Record a failed attempt: back to the queue while attempts remain, else ``failed`` for good."""
    with session_scope(db) as session:
        job = _get(session, job_id)
        job.error = error
        job.claimed_by = None
        job.claimed_at = None
        status: JobStatus = "queued" if job.attempts < job.max_attempts else "failed"
        job.status = status
        if status == "failed":
            job.finished_at = datetime.now(UTC)
        return status


def release(db: Database, job_id: int) -> None:
    """Give back a job whose worker is stopping (SIGTERM) before it finished: queued again at once,
    and the attempt it was on does not count, since nothing about the job failed."""
    with session_scope(db) as session:
        job = _get(session, job_id)
        if job.status != "running":
            return
        job.status = "queued"
        job.attempts = max(job.attempts - 1, 0)
        job.claimed_by = None
        job.claimed_at = None


@dataclass(frozen=True)
class QueueStatus:
    queued: int
    running: int
    failed: int
    done_last_hour: int
    oldest_queued_at: datetime | None  # UTC


def queue_status(db: Database, now: datetime | None = None) -> QueueStatus:
    """What ``earshot status`` and the metrics show: the queue's depth, work in hand, failures, and
    jobs finished in the hour before ``now``."""
    now = now or datetime.now(UTC)
    with session_scope(db) as session:
        counts = {
            status: count
            for status, count in session.execute(select(Job.status, func.count()).group_by(Job.status))
        }
        done_last_hour = session.scalar(
            select(func.count()).where(Job.status == "done", Job.finished_at >= now - timedelta(hours=1))
        )
        oldest = session.scalar(select(func.min(Job.created_at)).where(Job.status == "queued"))
    return QueueStatus(
        queued=counts.get("queued", 0),
        running=counts.get("running", 0),
        failed=counts.get("failed", 0),
        done_last_hour=done_last_hour or 0,
        oldest_queued_at=None if oldest is None else as_utc(oldest),
    )


def retry_failed(db: Database, job_id: int | None = None) -> int:
    """Queue failed jobs again with fresh attempts (all of them, or one); returns how many."""
    with session_scope(db) as session:
        if job_id is not None:
            job = _get(session, job_id)
            if job.status != "failed":
                raise InvalidValue(f"job {job_id} cannot be retried: it is {job.status}, not failed")
        condition = [Job.status == "failed"] + ([Job.id == job_id] if job_id is not None else [])
        result: CursorResult[Any] = session.execute(  # type: ignore[assignment]  # an UPDATE's result
            update(Job)
            .where(*condition)
            .values(
                status="queued", attempts=0, error=None, claimed_by=None, claimed_at=None, finished_at=None
            )
            .execution_options(synchronize_session=False)
        )
        return result.rowcount


def _get(session: Session, job_id: int) -> Job:
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"no job with id {job_id}")
    return job
