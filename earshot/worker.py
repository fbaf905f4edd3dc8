"""The worker: claims queued jobs, runs the pipeline, stores the transcript, and records failures.

Several workers may share one database; the claim is atomic in ``storage.jobs``. A worker that is
killed stops sending heartbeats and its job is claimed again once it goes stale.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass
from datetime import timedelta

from earshot.settings import JOB_HEARTBEAT_EVERY_S, Settings
from storage import jobs, services
from storage.blobs import BlobStore
from storage.db import Database
from transcribe import audio, pipeline
from transcribe.types import ProgressHook

POLL_EVERY_S = 2.0


@dataclass(frozen=True)
class WorkerReport:
    done: int
    failed: int  # out of attempts, marked failed
    retried: int  # failed attempts put back in the queue


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run_worker(
    db: Database,
    settings: Settings,
    *,
    drain_and_exit: bool,
    worker_id: str | None = None,
    hook: ProgressHook | None = None,
) -> WorkerReport:
    """Process jobs until the queue is empty (``drain_and_exit``) or forever, polling for new ones."""
    worker_id = worker_id or default_worker_id()
    blobs = BlobStore(settings.blobs_dir)
    done = failed = retried = 0
    while True:
        job = jobs.claim_next(db, worker_id, stale_after=timedelta(seconds=settings.job_stale_after_s))
        if job is None:
            if drain_and_exit:
                return WorkerReport(done=done, failed=failed, retried=retried)
            time.sleep(POLL_EVERY_S)
            continue
        try:
            transcript = _transcribe(db, blobs, settings, job, hook)
            services.save_transcript(db, job.recording_id, transcript)
        except Exception as error:  # one bad job must never stop the worker; the job records why
            status = jobs.fail(db, job.id, f"{type(error).__name__}: {error}")
            failed += status == "failed"
            retried += status == "queued"
        else:
            jobs.complete(db, job.id)
            done += 1


def _transcribe(db: Database, blobs: BlobStore, settings: Settings, job: jobs.ClaimedJob, hook):
    call = services.transcription_input(db, job.recording_id, blobs)
    options = settings.transcribe_options(
        channel_roles=call.channel_roles,
        mono_role_rule="first_speaker_is_customer" if call.direction == "outbound" else None,
    )
    decoded = audio.decode(call.audio_path, name=call.original_name, max_seconds=settings.max_audio_seconds)
    beat = _Heartbeat(db, job.id, hook)
    return pipeline.run(decoded, options, beat, cache_dir=settings.models_dir)


class _Heartbeat:
    """Forwards progress and, at most every few seconds, tells the queue this job is still alive."""

    def __init__(self, db: Database, job_id: int, hook: ProgressHook | None) -> None:
        self._db, self._job_id, self._hook = db, job_id, hook
        self._last = time.monotonic()

    def __call__(self, step: str, *, completed: int | None = None, total: int | None = None) -> None:
        if self._hook is not None:
            self._hook(step, completed=completed, total=total)
        now = time.monotonic()
        if now - self._last >= JOB_HEARTBEAT_EVERY_S:
            jobs.heartbeat(self._db, self._job_id)
            self._last = now
