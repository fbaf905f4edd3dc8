"""What the jobs table costs as a queue, on SQLite and on PostgreSQL, in one run: the figures behind
keeping it on PostgreSQL too (FOR UPDATE SKIP LOCKED) rather than adding procrastinate.

    .venv/bin/python -m bench.queue_claims [--jobs 2000] [--workers 1 4 8]

For each backend and worker count: ``--jobs`` queued jobs, then that many worker processes claim and
complete jobs until none is left (what ``earshot worker`` does around each transcription). Prints
jobs per second, the claim's median and p95 in milliseconds, and checks that every job was done
exactly once. PostgreSQL is a throwaway server (``tests/postgres_server.py``; needs initdb).
A transcription takes seconds per call, so the queue's share is what these milliseconds are of it.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import tempfile
import time
from multiprocessing.synchronize import Barrier
from pathlib import Path

from sqlalchemy import func, insert, select

from storage.db import Database, open_database, session_scope
from storage.jobs import claim_next, complete
from storage.models import Job, Recording, Thread


def _prepare(db: Database, jobs: int) -> None:
    with session_scope(db) as session:
        session.execute(
            insert(Thread), [{"id": 1, "channel": "call", "provider": "bench", "provider_id": "1"}]
        )
        session.execute(
            insert(Recording),
            [
                {
                    "id": 1,
                    "thread_id": 1,
                    "sha256": "a" * 64,
                    "original_name": "a.wav",
                    "format": "WAV/PCM_16",
                    "size_bytes": 1,
                    "duration": 1.0,
                    "sample_rate": 8000,
                    "channels": 1,
                }
            ],
        )
        session.execute(
            insert(Job),
            [
                {
                    "recording_id": 1,
                    "stage": "transcribe",
                    "status": "queued",
                    "attempts": 0,
                    "max_attempts": 3,
                }
                for _ in range(jobs)
            ],
        )


def _work(url: str, secrets: Path, name: str, start: Barrier, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    db = open_database(url, secrets_dir=secrets)
    claims: list[float] = []
    done: list[int] = []
    start.wait(timeout=120)
    while True:
        began = time.perf_counter()
        job = claim_next(db, name)
        claims.append((time.perf_counter() - began) * 1000)
        if job is None:
            break
        complete(db, job.id)
        done.append(job.id)
    out.put((claims, done))
    db.engine.dispose()


def measure(url: str, secrets: Path, jobs: int, workers: int) -> str:
    db = open_database(url, secrets_dir=secrets)
    _prepare(db, jobs)
    context = multiprocessing.get_context("fork")
    start, out = context.Barrier(workers + 1), context.Queue()
    processes = [
        context.Process(target=_work, args=(url, secrets, f"w{i}", start, out)) for i in range(workers)
    ]
    db.engine.dispose()
    for process in processes:
        process.start()
    start.wait(timeout=120)
    began = time.perf_counter()
    results = [out.get(timeout=600) for _ in processes]
    elapsed = time.perf_counter() - began
    for process in processes:
        process.join()
    claims = sorted(ms for timings, _ in results for ms in timings)
    done = [job for _, ids in results for job in ids]
    db = open_database(url, secrets_dir=secrets)
    with db.engine.connect() as connection:
        finished = connection.execute(
            select(func.count()).select_from(Job).where(Job.status == "done")
        ).scalar_one()
    db.engine.dispose()
    once = len(done) == len(set(done)) == finished == jobs
    p95 = claims[round(0.95 * (len(claims) - 1))]
    return (
        f"{workers:>7} {jobs / elapsed:>8.0f} {statistics.median(claims):>10.2f} {p95:>8.2f}"
        f"  {'yes' if once else 'NO'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 4, 8])
    args = parser.parse_args()

    from tests.postgres_server import PostgresServer

    server = PostgresServer()
    try:
        with tempfile.TemporaryDirectory() as scratch:
            secrets = Path(scratch) / "secrets"
            print(f"{'backend':<11} {'workers':>7} {'jobs/s':>8} {'claim p50':>10} {'p95 ms':>8}  once")
            for workers in args.workers:
                for backend in ("sqlite", "postgresql"):
                    if backend == "sqlite":
                        url = f"sqlite:///{Path(scratch) / f'queue-{workers}.db'}"
                    else:
                        server.execute(f"CREATE DATABASE queue_{workers}")
                        url = server.url(f"queue_{workers}")
                    print(f"{backend:<11} {measure(url, secrets, args.jobs, workers)}", flush=True)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
