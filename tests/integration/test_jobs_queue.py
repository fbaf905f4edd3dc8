"""The jobs table as a work queue, on a real SQLite file and a real PostgreSQL server, with real worker
processes."""

from __future__ import annotations

import multiprocessing
import os
import time
from datetime import UTC, datetime, timedelta
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest
from sqlalchemy import select

from storage.db import Database, open_database, session_scope
from storage.errors import InvalidValue, NotFound
from storage.jobs import QueueStatus, claim_next, complete, enqueue, fail, queue_status, release, retry_failed
from storage.models import Job, Recording, Thread


def _add_recording(db: Database) -> int:
    with session_scope(db) as session:
        thread = Thread(channel="call", provider="earshot", provider_id="t")
        session.add(thread)
        session.flush()
        recording = Recording(
            thread_id=thread.id,
            sha256="a" * 64,
            original_name="a.wav",
            format="WAV/PCM_16",
            size_bytes=1,
            duration=1.0,
            sample_rate=8000,
            channels=1,
        )
        session.add(recording)
        session.flush()
        return recording.id


def _db_url(db: Database) -> str:
    return db.engine.url.render_as_string(hide_password=False)


def _job(db: Database, job_id: int) -> Job:
    with db.sessionmaker() as session:
        job = session.scalars(select(Job).where(Job.id == job_id)).one()
        session.expunge(job)
        return job


def _claim_until_empty(
    url: str,
    secrets: Path,
    worker_id: str,
    start: Barrier,
    results: multiprocessing.Queue,  # type: ignore[type-arg]
) -> None:
    db = open_database(url, secrets_dir=secrets)
    start.wait(timeout=60)  # all workers claim at the same time, not one after another as they start
    claimed = []
    while (job := claim_next(db, worker_id, stale_after=timedelta(hours=1))) is not None:
        claimed.append(job.id)
        # A real worker transcribes between claims; yielding the CPU here lets the claims compete
        # on a loaded 2-core machine too, where one worker once took all 200 before the rest ran.
        time.sleep(0.002)
    results.put((worker_id, claimed))
    db.engine.dispose()


def test_concurrent_workers_claim_every_job_exactly_once(db: Database) -> None:
    recording_id = _add_recording(db)
    with session_scope(db) as session:
        job_ids = {enqueue(session, recording_id) for _ in range(200)}
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    start = context.Barrier(4)
    workers = [
        context.Process(
            target=_claim_until_empty, args=(_db_url(db), db.secrets.folder, f"w{i}", start, results)
        )
        for i in range(4)
    ]
    for worker in workers:
        worker.start()
    outcomes = dict(results.get(timeout=120) for _ in workers)
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0

    claimed = [job_id for ids in outcomes.values() for job_id in ids]
    print({worker_id: len(ids) for worker_id, ids in outcomes.items()})
    assert sum(1 for ids in outcomes.values() if ids) >= 2  # the claims really did compete
    assert len(claimed) == len(set(claimed)) == 200
    assert set(claimed) == job_ids
    with db.sessionmaker() as session:
        rows = session.execute(select(Job.id, Job.status, Job.attempts, Job.claimed_by)).all()
    assert all(status == "running" and attempts == 1 for _, status, attempts, _ in rows)
    assert {job_id: by for job_id, _, _, by in rows} == {
        job_id: worker_id for worker_id, ids in outcomes.items() for job_id in ids
    }


def test_oldest_job_first_and_completed_jobs_stay_done(db: Database) -> None:
    recording_id = _add_recording(db)
    with session_scope(db) as session:
        first, second = enqueue(session, recording_id), enqueue(session, recording_id)
    claimed = claim_next(db, "w1")
    assert claimed is not None and (claimed.id, claimed.attempts, claimed.max_attempts) == (first, 1, 3)
    complete(db, first)
    assert _job(db, first).status == "done"
    assert claim_next(db, "w1").id == second  # type: ignore[union-attr]
    assert claim_next(db, "w1") is None


def _claim_and_die(url: str, secrets: Path) -> None:
    db = open_database(url, secrets_dir=secrets)
    claim_next(db, "doomed")
    os._exit(1)  # killed mid-job: no complete(), no fail(), no clean shutdown


def test_job_of_a_killed_worker_is_claimed_again_once_stale(db: Database) -> None:
    recording_id = _add_recording(db)
    with session_scope(db) as session:
        job_id = enqueue(session, recording_id, max_attempts=2)
    worker = multiprocessing.get_context("spawn").Process(
        target=_claim_and_die, args=(_db_url(db), db.secrets.folder)
    )
    worker.start()
    worker.join(timeout=60)
    assert worker.exitcode == 1
    assert _job(db, job_id).claimed_by == "doomed"

    assert claim_next(db, "rescuer", stale_after=timedelta(hours=1)) is None  # not stale yet
    time.sleep(0.3)
    again = claim_next(db, "rescuer", stale_after=timedelta(milliseconds=200))
    assert again is not None and (again.id, again.attempts) == (job_id, 2)

    # The rescuer dies too: the job has used its two attempts, so it fails instead of running a third time.
    time.sleep(0.3)
    assert claim_next(db, "third", stale_after=timedelta(milliseconds=200)) is None
    job = _job(db, job_id)
    assert job.status == "failed"
    assert job.error == "worker stopped responding after 2 attempts"
    assert job.attempts == 2


def test_fail_requeues_until_attempts_are_used_then_retry_resets(db: Database) -> None:
    recording_id = _add_recording(db)
    with session_scope(db) as session:
        job_id = enqueue(session, recording_id, max_attempts=2)
        other = enqueue(session, recording_id)

    assert claim_next(db, "w").id == job_id  # type: ignore[union-attr]
    assert fail(db, job_id, "decoder crashed") == "queued"
    assert claim_next(db, "w").id == job_id  # type: ignore[union-attr]
    assert fail(db, job_id, "decoder crashed again") == "failed"
    job = _job(db, job_id)
    assert (job.status, job.attempts, job.error) == ("failed", 2, "decoder crashed again")

    with pytest.raises(InvalidValue, match=f"job {other} cannot be retried: it is queued"):
        retry_failed(db, other)
    with pytest.raises(NotFound, match="no job with id 999"):
        retry_failed(db, 999)
    assert retry_failed(db, job_id) == 1
    job = _job(db, job_id)
    assert (job.status, job.attempts, job.error, job.claimed_by) == ("queued", 0, None, None)
    assert retry_failed(db) == 0


def _enqueue(db: Database, recording_id: int) -> int:
    with session_scope(db) as session:
        return enqueue(session, recording_id)


def test_a_released_job_is_queued_again_without_losing_an_attempt(db: Database) -> None:
    job_id = _enqueue(db, _add_recording(db))
    claimed = claim_next(db, "stopping-worker")
    assert claimed is not None and claimed.attempts == 1
    release(db, job_id)
    job = _job(db, job_id)
    assert (job.status, job.attempts, job.claimed_by, job.claimed_at) == ("queued", 0, None, None)
    complete_job = claim_next(db, "another-worker")
    assert complete_job is not None and complete_job.id == job_id  # at once, not after the stale timeout
    complete(db, job_id)
    release(db, job_id)  # too late: a finished job stays finished
    assert _job(db, job_id).status == "done"


def test_queue_status_counts_what_waits_runs_failed_and_finished_in_the_hour(db: Database) -> None:
    before = datetime.now(UTC)
    assert queue_status(db) == QueueStatus(0, 0, 0, 0, None)
    recording_id = _add_recording(db)
    ids = [_enqueue(db, recording_id) for _ in range(4)]
    for worker in ("w1", "w2", "w3"):
        claim_next(db, worker)
    complete(db, ids[0])
    with session_scope(db) as session:
        session.get(Job, ids[1]).max_attempts = 1  # type: ignore[union-attr]
    fail(db, ids[1], "boom")
    status = queue_status(db)
    assert (status.queued, status.running, status.failed, status.done_last_hour) == (1, 1, 1, 1)
    assert status.oldest_queued_at is not None and before - timedelta(seconds=1) <= status.oldest_queued_at
    assert queue_status(db, now=datetime.now(UTC) + timedelta(hours=2)).done_last_hour == 0
