"""Workers killed at random while they transcribe: nothing lost, nothing doubled, on SQLite and PostgreSQL.

    .venv/bin/python -m bench.worker_crashes [--copies 4] [--workers 2] [--kills 6] [--seed 0]

Ingests ``--copies`` copies of the demo calls (as ``bench.worker_throughput``), starts ``--workers``
worker processes (``earshot worker``), and at random moments kills one with SIGKILL (its whole
process group, as a machine that loses power would) and starts another in its place, ``--kills``
times. A killed worker's job stays ``running`` until its claim is older than the
``job_stale_after_s`` setting (set to its least, 45 s), when another worker takes it over. When
no job is left the workers are stopped with SIGTERM. Then it checks, per backend:

- every job is done (a job killed ``max_attempts`` times would be failed, and is counted);
- every recording has exactly one transcript, and each transcript's utterances are numbered
  0..n-1 once each (a job run twice leaves no second copy, a killed save no half one);
- on SQLite, the search index agrees with the utterances (FTS5's ``integrity-check``).

Prints the kills, how many of them took a job down (attempts above one), the wall time and the
checks. PostgreSQL is a throwaway server (``tests/postgres_server.py``).
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from bench.worker_throughput import demo_calls, earshot
from storage.db import create_storage_engine
from tests.postgres_server import PostgresServer, unavailable_reason

STALE_AFTER_S = 45  # the setting's least: three of the worker's 15 s heartbeats
POLL_S = 1.0


def start_worker(data_dir: Path, url: str, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "EARSHOT_DATA_DIR": str(data_dir),
        "EARSHOT_DATABASE_URL": url,
        "EARSHOT_JOB_STALE_AFTER_S": str(STALE_AFTER_S),
    }
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "earshot", "worker", "--no-progress"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: a kill takes its children too
        )


def job_counts(url: str) -> dict[str, int]:
    engine = create_storage_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("select status, count(*) from jobs group by status"))
            return {status: count for status, count in rows}
    finally:
        engine.dispose()


def checks(url: str) -> list[tuple[str, bool, str]]:
    """(what, holds, figures) for the consistency the crash must not break."""
    engine = create_storage_engine(url)
    try:
        with engine.connect() as connection:
            recordings = connection.scalar(text("select count(*) from recordings"))
            without = connection.scalar(
                text(
                    "select count(*) from recordings r"
                    " where not exists (select 1 from transcripts t where t.recording_id = r.id)"
                )
            )
            jobs = {
                s: n for s, n in connection.execute(text("select status, count(*) from jobs group by status"))
            }
            retried = connection.scalar(text("select count(*) from jobs where attempts > 1"))
            bad_numbering = connection.scalar(
                text(
                    "select count(*) from (select transcript_id from utterances group by transcript_id"
                    " having count(*) <> count(distinct seq) or max(seq) + 1 <> count(*)) numbered"
                )
            )
            utterances = connection.scalar(text("select count(*) from utterances"))
            found = [
                ("every job done", set(jobs) == {"done"}, f"jobs {jobs}, {retried} taken over after a kill"),
                (
                    "every recording transcribed once",
                    without == 0,
                    f"{recordings} recordings, {without} without",
                ),
                (
                    "utterances numbered once each",
                    bad_numbering == 0,
                    f"{utterances} utterances, {bad_numbering} transcripts numbered wrong",
                ),
            ]
            if connection.dialect.name == "sqlite":
                try:
                    connection.execute(
                        text("insert into utterances_fts(utterances_fts) values('integrity-check')")
                    )
                    found.append(("search index agrees with the utterances", True, "FTS5 integrity-check"))
                except Exception as error:  # the check raises on any difference
                    found.append(("search index agrees with the utterances", False, str(error)))
            return found
    finally:
        engine.dispose()


def run(url: str, data_dir: Path, calls: Path, workers: int, kills: int, rng: random.Random) -> float:
    earshot(data_dir, url, "ingest", str(calls))
    logs = data_dir / "worker-logs"
    logs.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    started = 0

    def another() -> subprocess.Popen[bytes]:
        nonlocal started
        started += 1
        return start_worker(data_dir, url, logs / f"worker-{started}.log")

    fleet = [another() for _ in range(workers)]
    kill_at = time.perf_counter() + rng.uniform(3, 15)
    done_kills = 0
    try:
        while True:
            counts = job_counts(url)
            if not counts.get("queued") and not counts.get("running"):
                break
            if done_kills < kills and time.perf_counter() >= kill_at:
                victim = rng.randrange(len(fleet))
                os.killpg(fleet[victim].pid, signal.SIGKILL)
                fleet[victim].wait()
                fleet[victim] = another()
                done_kills += 1
                print(f"  {time.perf_counter() - began:6.1f} s  killed a worker; jobs {counts}", flush=True)
                kill_at = time.perf_counter() + rng.uniform(3, 15)
            time.sleep(POLL_S)
    finally:
        for worker in fleet:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGTERM)
        for worker in fleet:
            try:
                worker.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait()
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--copies", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--kills", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    args = parser.parse_args()
    rng = random.Random(args.seed)
    failed = False
    with tempfile.TemporaryDirectory() as scratch:
        calls, count, audio_seconds = demo_calls(Path(scratch), args.copies)
        print(f"{count} calls, {audio_seconds:.0f} s of audio; {args.workers} workers, {args.kills} kills")
        server = None
        try:
            for backend in args.backends:
                data_dir = Path(scratch) / backend
                if backend == "sqlite":
                    url = f"sqlite:///{data_dir / 'earshot.db'}"
                elif unavailable_reason():
                    print(f"postgresql: skipped ({unavailable_reason()})")
                    continue
                else:
                    server = server or PostgresServer()
                    url = server.new_database(empty=True)
                print(backend)
                elapsed = run(url, data_dir, calls, args.workers, args.kills, rng)
                print(f"  drained in {elapsed:.0f} s wall")
                for what, holds, figures in checks(url):
                    failed |= not holds
                    print(f"  {'ok  ' if holds else 'FAIL'} {what}: {figures}")
        finally:
            if server is not None:
                server.stop()
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
