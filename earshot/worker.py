"""The worker: claims queued jobs, runs the pipeline, stores the transcript, and records failures.

Several workers may share one database; the claim is atomic in ``storage.jobs``. A worker that is
killed stops sending heartbeats and its job is claimed again once it goes stale.

Storage faults that pass (another process holding the write lock past the busy timeout, a full disk)
never stop the worker: each storage step is tried again with back-off, and a job whose transcript
cannot be stored even then is released at once (the attempt counts; ``earshot retry`` brings back a
job that ran out of attempts) instead of staying ``running`` until it goes stale. Faults that do not
pass (a read-only database) stop the worker with one clear line.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import TypeVar

from faster_whisper import WhisperModel  # type: ignore[import-untyped]

from earshot import voice_enrolment
from earshot.metrics import WorkerMetrics
from earshot.settings import JOB_HEARTBEAT_EVERY_S, Settings
from earshot.stopping import StopRequested, StopSignal
from storage import agent_voices, deletion, jobs, retention, services, trackers
from storage.blobs import BlobStore, put_bytes
from storage.db import Database, open_database
from storage.errors import TransientStorageError
from transcribe import audio, pipeline
from transcribe.models import load_whisper
from transcribe.redaction.audio import redacted_samples, wav_bytes
from transcribe.redaction.rehear import redact_call
from transcribe.redaction.stage import Redaction
from transcribe.redaction.verify import SpanCheck, verify_redaction
from transcribe.types import Audio, ProgressHook, Transcript

POLL_EVERY_S = 2.0
RETENTION_SCHEDULE = "(worker retention schedule)"  # who the audit log names for scheduled deletions

T = TypeVar("T")
Report = Callable[[str], None]


@dataclass(frozen=True)
class Backoff:
    """Waits between tries of a storage step that hit a passing fault: doubling, bounded in number,
    so a worker neither hammers a busy database nor holds a job for ever."""

    first_s: float = 0.5
    factor: float = 2.0
    tries: int = 6  # 0.5 + 1 + 2 + 4 + 8 = 15.5 s of waiting (plus the busy timeout per try)

    def waits(self) -> Iterator[float]:
        return (self.first_s * self.factor**step for step in range(self.tries - 1))


@dataclass(frozen=True)
class WorkerReport:
    done: int
    failed: int  # out of attempts, marked failed
    retried: int  # failed attempts put back in the queue

    def summary(self) -> str:
        return f"{self.done} job(s) done, {self.failed} failed, {self.retried} attempt(s) retried"


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def open_queue(settings: Settings, report: Report, backoff: Backoff = Backoff()) -> Database:
    """The database, waited for: a worker started while another process holds the write lock (a
    backup, a long import) or while the disk is full starts once that passes."""
    opening = partial(
        open_database,
        settings.database_url,
        busy_timeout=settings.database_busy_timeout_s,
        secrets_dir=settings.secrets_dir,
    )
    return _persist_until_done(opening, backoff, report)


def run_worker(
    db: Database,
    settings: Settings,
    *,
    drain_and_exit: bool,
    worker_id: str | None = None,
    hook: ProgressHook | None = None,
    report: Report = lambda line: None,
    backoff: Backoff = Backoff(),
    stop: StopSignal | None = None,
    metrics: WorkerMetrics | None = None,
) -> WorkerReport:
    """Process jobs until the queue is empty (``drain_and_exit``), or until ``stop`` is requested,
    polling for new ones. ``report`` hears about storage faults the worker rides out."""
    worker_id = worker_id or default_worker_id()
    stop = stop or StopSignal()
    blobs = settings.blob_store()
    stale_after = timedelta(seconds=settings.job_stale_after_s)
    retention = RetentionSchedule(settings.retention_every_s)
    metrics = metrics or WorkerMetrics()
    done = failed = retried = 0
    while not stop.requested:
        retention.run_if_due(db, blobs, report)
        job = _persist_until_done(partial(_claim_next, db, worker_id, stale_after), backoff, report)
        if job is None:
            if drain_and_exit:
                break
            _sleep_unless_stopped(POLL_EVERY_S, stop)
            continue
        started = time.monotonic()
        try:
            if job.stage == jobs.ENROL_VOICE:
                _persist(
                    partial(voice_enrolment.enrol_corrected, db, blobs, settings, job.recording_id),
                    backoff,
                    report,
                )
                audio_seconds = 0.0
            else:
                beat = _Heartbeat(db, job.id, hook, report, stop)
                audio_seconds = _transcribe_and_save(db, blobs, settings, job, beat, backoff, report)
            _persist(partial(jobs.complete, db, job.id), backoff, report)
        except StopRequested:
            _persist_until_done(partial(jobs.release, db, job.id), backoff, report)
            report(f"stopping: job {job.id} given back to the queue")
            metrics.jobs.labels("released").inc()
        except Exception as error:  # one bad job must never stop the worker; the job records why
            status = _release(db, job, f"{type(error).__name__}: {error}", backoff, report)
            failed += status == "failed"
            retried += status == "queued"
            metrics.jobs.labels("failed" if status == "failed" else "retried").inc()
        else:
            done += 1
            metrics.jobs.labels("done").inc()
            metrics.job_seconds.observe(time.monotonic() - started)
            metrics.audio_seconds.inc(audio_seconds)
    return WorkerReport(done=done, failed=failed, retried=retried)


def _claim_next(db: Database, worker_id: str, stale_after: timedelta) -> jobs.ClaimedJob | None:
    """Calls to transcribe first: a voiceprint's update after a correction can wait for them."""
    return jobs.claim_next(db, worker_id, jobs.TRANSCRIBE, stale_after) or jobs.claim_next(
        db, worker_id, jobs.ENROL_VOICE, stale_after
    )


def _transcribe_and_save(
    db: Database,
    blobs: BlobStore,
    settings: Settings,
    job: jobs.ClaimedJob,
    beat: ProgressHook,
    backoff: Backoff,
    report: Report,
) -> float:
    """Transcribe the job's call, store it with its redacted audio, and enrol its agent's voice
    where the call makes it known; returns the seconds of audio."""
    decoded, heard = _transcribe(db, blobs, settings, job, beat, backoff, report)
    options = heard.options
    model = load_whisper(options.model, settings.models_dir, options.device, options.compute_type)
    redaction = redact_call(model, decoded.samples, heard)
    audio_copy, checks = _redacted_audio(blobs, model, decoded, redaction)
    save = partial(
        services.save_transcript,
        db,
        job.recording_id,
        redaction.transcript,
        redaction.spans,
        redacted_audio_sha256=audio_copy,
        verified=[check.verified for check in checks],
    )
    _persist(save, backoff, report)
    # Trackers tag the call once its words are stored: their alerts come with the transcript.
    _persist(partial(trackers.tag_transcribed_call, db, job.recording_id), backoff, report)
    enrol = partial(voice_enrolment.enrol_transcribed, db, decoded, heard, job.recording_id, settings.device)
    _persist(enrol, backoff, report)
    return decoded.source.duration


def _sleep_unless_stopped(seconds: float, stop: StopSignal) -> None:
    deadline = time.monotonic() + seconds
    while not stop.requested and time.monotonic() < deadline:
        time.sleep(0.1)


class RetentionSchedule:
    """Applies the retention policies every ``every_s`` seconds (first when the worker starts), then
    sweeps audio that no recording refers to. A plain function call, so a fleet's scheduler (such as
    procrastinate's periodic tasks) can call ``retention.apply_retention`` instead. A failure is
    reported and tried again at the next turn: deleting late is safe, stopping transcription is not."""

    def __init__(self, every_s: int) -> None:
        self._every_s = every_s
        self._next = time.monotonic()

    def run_if_due(self, db: Database, blobs: BlobStore, report: Report) -> None:
        if self._every_s <= 0 or time.monotonic() < self._next:
            return
        self._next = time.monotonic() + self._every_s
        try:
            run = retention.apply_retention(db, blobs, None, dry_run=False, username=RETENTION_SCHEDULE)
            swept = deletion.sweep_unreferenced_audio(db, blobs)
        except Exception as error:  # never stop transcription over it; the next turn tries again
            report(f"retention skipped this turn: {type(error).__name__}: {error}")
            return
        deleted = run.everything.conversations + run.audio_only.calls
        if deleted or swept:
            report(
                f"retention: {run.everything.conversations} conversation(s) deleted, audio of "
                f"{run.audio_only.calls} call(s) deleted, {swept} unreferenced audio file(s) removed"
            )


def _persist(step: Callable[[], T], backoff: Backoff, report: Report) -> T:
    """Run a storage step; after a passing fault wait and run it again, up to ``backoff.tries``."""
    for wait in backoff.waits():
        try:
            return step()
        except TransientStorageError as error:
            report(f"{error}; trying again in {wait:g} s")
            time.sleep(wait)
    return step()  # the last try: its fault goes to the caller


def _persist_until_done(step: Callable[[], T], backoff: Backoff, report: Report) -> T:
    """For the steps the worker cannot go on without (opening the database, claiming, giving a job
    back): a passing fault is waited out however long it lasts; the worker never exits on one."""
    while True:
        try:
            return _persist(step, backoff, report)
        except TransientStorageError as error:
            report(f"still failing ({error}); the worker keeps trying")


def _release(
    db: Database, job: jobs.ClaimedJob, error: str, backoff: Backoff, report: Report
) -> jobs.JobStatus:
    """Give the job back as a failed attempt as soon as the database takes the write (on a full disk,
    the moment space is freed), so that it never waits to go stale."""
    report(f"releasing job {job.id}: {error}")
    status = _persist_until_done(partial(jobs.fail, db, job.id, error), backoff, report)
    report(f"job {job.id} {'put back in the queue' if status == 'queued' else 'failed'}")
    return status


def _transcribe(
    db: Database,
    blobs: BlobStore,
    settings: Settings,
    job: jobs.ClaimedJob,
    beat: ProgressHook,
    backoff: Backoff,
    report: Report,
) -> tuple[Audio, Transcript]:
    call = _persist(partial(services.transcription_input, db, job.recording_id, blobs), backoff, report)
    options = settings.transcribe_options(
        channel_roles=call.channel_roles,
        mono_role_rule="first_speaker_is_customer" if call.direction == "outbound" else None,
    )
    decoded = audio.decode(call.audio_path, name=call.original_name, max_seconds=settings.max_audio_seconds)
    agent_voice = _persist(partial(agent_voices.call_agent_voiceprint, db, job.recording_id), backoff, report)
    return decoded, pipeline.run(
        decoded,
        options,
        beat,
        cache_dir=settings.models_dir,
        agent_voice=voice_enrolment.as_voiceprint(agent_voice) if agent_voice is not None else None,
    )


def _redacted_audio(
    blobs: BlobStore, model: WhisperModel, decoded: Audio, redaction: Redaction
) -> tuple[str | None, tuple[SpanCheck, ...]]:
    """The call's redacted copy, stored content-addressed beside the original (which is never
    altered), and what re-transcribing each covered stretch heard; (None, ()) when nothing was
    redacted and the original is all there is."""
    if not redaction.spans:
        return None, ()
    covered = redacted_samples(decoded.samples, [(span.start, span.end) for span in redaction.spans])
    checks = verify_redaction(model, covered, redaction.spans, redaction.transcript.options)
    return put_bytes(blobs, wav_bytes(covered)).sha256, checks


class _Heartbeat:
    """Forwards progress and, at most every few seconds, tells the queue this job is still alive;
    a stop requested meanwhile ends the job here (``StopRequested``)."""

    def __init__(
        self, db: Database, job_id: int, hook: ProgressHook | None, report: Report, stop: StopSignal
    ) -> None:
        self._db, self._job_id, self._hook, self._report, self._stop = db, job_id, hook, report, stop
        self._last = time.monotonic()

    def __call__(self, step: str, *, completed: int | None = None, total: int | None = None) -> None:
        self._stop.check()
        if self._hook is not None:
            self._hook(step, completed=completed, total=total)
        now = time.monotonic()
        if now - self._last >= JOB_HEARTBEAT_EVERY_S:
            self._last = now
            try:
                jobs.heartbeat(self._db, self._job_id)
            except TransientStorageError as error:
                # The stale timeout spans several beats (settings), so the next one keeps the job ours.
                self._report(f"heartbeat of job {self._job_id} missed: {error}")
