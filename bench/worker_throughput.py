"""Transcription throughput of a worker fleet: 1 and 2 worker processes, on SQLite and on PostgreSQL.

    .venv/bin/python -m bench.worker_throughput [--copies 4] [--concurrency 1 2]

Ingests ``--copies`` copies of the demo calls (``sample_audio/``, each copy made distinct by a
sample of silence so it is a new recording), then times ``earshot worker --once --concurrency N``
draining the queue, once per database and N, each on a fresh data folder. Prints audio seconds
transcribed per wall second and checks every job was done exactly once. PostgreSQL is a
throwaway server (``tests/postgres_server.py``, needs Debian's postgresql). Figures are for
comparing in one run: the machine's cores and load set the absolute numbers.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
from sqlalchemy import text

from storage.db import create_storage_engine
from tests.postgres_server import PostgresServer, unavailable_reason

SAMPLE_AUDIO = Path(__file__).resolve().parents[1] / "sample_audio"


def make_calls(folder: Path, copies: int) -> float:
    """``copies`` distinct copies of each demo call with its sidecar; returns their audio seconds."""
    seconds = 0.0
    for wav in sorted(SAMPLE_AUDIO.glob("*.wav")):
        samples, rate = sf.read(wav, dtype="float32", always_2d=True)
        for copy in range(copies):
            padded = np.concatenate([samples, np.zeros((copy + 1, samples.shape[1]), np.float32)])
            sf.write(folder / f"{wav.stem}_{copy}.wav", padded, rate)
            sidecar = (SAMPLE_AUDIO / f"{wav.stem}.json").read_text()
            (folder / f"{wav.stem}_{copy}.json").write_text(
                sidecar.replace('"provider_id": "', f'"provider_id": "{copy}-')
            )
            seconds += len(padded) / rate
    return seconds


def demo_calls(scratch: Path, copies: int) -> tuple[Path, int, float]:
    """A folder under ``scratch`` with ``copies`` of the demo calls: (folder, calls, audio seconds)."""
    calls = scratch / "calls"
    calls.mkdir()
    seconds = make_calls(calls, copies)
    return calls, len(list(calls.glob("*.wav"))), seconds


def earshot(data_dir: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "EARSHOT_DATA_DIR": str(data_dir), "EARSHOT_DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "earshot", *args], env=env, capture_output=True, text=True, check=True
    )


def run(url: str, data_dir: Path, calls: Path, concurrency: int) -> tuple[float, list[tuple[str, int]]]:
    earshot(data_dir, url, "ingest", str(calls))
    began = time.perf_counter()
    earshot(data_dir, url, "worker", "--once", "--no-progress", "--concurrency", str(concurrency))
    elapsed = time.perf_counter() - began
    engine = create_storage_engine(url)
    try:
        with engine.connect() as connection:
            jobs = [tuple(row) for row in connection.execute(text("select status, attempts from jobs"))]
    finally:
        engine.dispose()
    return elapsed, jobs


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--copies", type=int, default=4)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        calls, count, audio_seconds = demo_calls(Path(scratch), args.copies)
        print(f"{count} calls, {audio_seconds:.0f} s of audio, {os.cpu_count()} cores; model tiny.en int8")
        server = None if unavailable_reason() else PostgresServer()
        try:
            for backend in ("sqlite", "postgresql"):
                for n in args.concurrency:
                    data_dir = Path(scratch) / f"{backend}-{n}"
                    if backend == "sqlite":
                        url = f"sqlite:///{data_dir / 'earshot.db'}"
                    elif server is None:
                        print(f"postgresql: skipped ({unavailable_reason()})")
                        break
                    else:
                        url = server.new_database(empty=True)
                    elapsed, jobs = run(url, data_dir, calls, n)
                    once = jobs == [("done", 1)] * count
                    print(
                        f"{backend:<10} {n} worker(s)  {elapsed:6.1f} s wall  "
                        f"{audio_seconds / elapsed:5.2f} audio s per s  every job done once: {once}"
                    )
        finally:
            if server is not None:
                server.stop()


if __name__ == "__main__":
    main()
