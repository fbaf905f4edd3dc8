"""Workers as a deployment runs them: several processes on one machine (``--concurrency``), stopped
by SIGTERM as a supervisor stops them, and ``earshot status`` watching the queue."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from earshot.metrics import WorkerMetrics
from earshot.settings import load_settings
from earshot.worker import open_queue, run_worker
from tests.cli import earshot
from tests.integration.test_cli_calls import database_rows
from tests.paths import EVAL, SAMPLE_AUDIO


def _incoming(tmp_path: Path) -> Path:
    incoming = tmp_path / "incoming"
    shutil.copytree(SAMPLE_AUDIO, incoming, ignore=shutil.ignore_patterns("*.sh"))
    return incoming


def _worker(data_dir: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "earshot", "worker", "--no-progress", *args],
        env={**os.environ, "EARSHOT_DATA_DIR": str(data_dir)},
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


@pytest.mark.slow
def test_sigterm_gives_the_job_in_hand_back_to_the_queue_at_once(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    assert earshot(data_dir, "ingest", str(_incoming(tmp_path))).exit_code == 0
    url = f"sqlite:///{data_dir / 'earshot.db'}"
    worker = _worker(data_dir)
    try:
        deadline = time.monotonic() + 60
        while ("running",) not in database_rows(url, "select status from jobs"):
            assert time.monotonic() < deadline, "the worker never claimed a job"
            time.sleep(0.05)
        worker.send_signal(signal.SIGTERM)
        _, stderr = worker.communicate(timeout=30)  # a supervisor's grace period, not a 54 s call
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
    assert worker.returncode == 0, stderr
    assert "given back to the queue" in stderr
    statuses = database_rows(url, "select status, attempts, claimed_by from jobs order by id")
    assert ("running", 1, statuses[0][2]) not in statuses
    assert all(status in ("queued", "done") for status, _, _ in statuses)
    assert all(attempts == (1 if status == "done" else 0) for status, attempts, _ in statuses)


@pytest.mark.slow
def test_two_worker_processes_do_every_job_once_and_status_follows_the_queue(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    assert earshot(data_dir, "ingest", str(_incoming(tmp_path))).exit_code == 0
    calls = len(list(SAMPLE_AUDIO.glob("*.json")))
    before = json.loads(earshot(data_dir, "status", "--json").stdout)
    assert (before["queued"], before["running"], before["done_last_hour"]) == (calls, 0, 0)
    assert before["oldest_waited_s"] >= 0

    fleet = _worker(data_dir, "--once", "--concurrency", "2")
    _, stderr = fleet.communicate(timeout=900)

    assert fleet.returncode == 0, stderr
    done = [int(m) for m in re.findall(r"^worker [12]: (\d+) job\(s\) done", stderr, re.MULTILINE)]
    assert len(done) == 2 and sum(done) == calls  # each process reports; together they did each call once
    url = f"sqlite:///{data_dir / 'earshot.db'}"
    assert database_rows(url, "select status, attempts from jobs") == [("done", 1)] * calls
    assert database_rows(url, "select count(*) from transcripts") == [(calls,)]
    after = earshot(data_dir, "status")
    assert "queued       0" in after.stdout and f"done, 1 h    {calls}" in after.stdout
    assert "oldest wait  -" in after.stdout


@pytest.mark.slow
def test_a_worker_counts_its_jobs_and_serves_them_to_prometheus(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    call = tmp_path / "call.wav"
    shutil.copy(EVAL / "stereo_2spk.wav", call)
    assert earshot(data_dir, "ingest", str(call)).exit_code == 0
    settings = load_settings(env={"EARSHOT_DATA_DIR": str(data_dir)})
    metrics = WorkerMetrics()
    server = metrics.serve(0, "127.0.0.1")
    try:
        db = open_queue(settings, lambda line: None)
        report = run_worker(db, settings, drain_and_exit=True, metrics=metrics)
        db.engine.dispose()
        with urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}/metrics", timeout=10) as response:
            body = response.read().decode()
    finally:
        server.shutdown()
        server.server_close()
    assert report.done == 1
    assert 'earshot_worker_jobs_total{outcome="done"} 1.0' in body
    assert "earshot_worker_job_seconds_count 1.0" in body
    audio = next(line for line in body.splitlines() if line.startswith("earshot_worker_audio_seconds_total"))
    assert 4.5 < float(audio.split()[1]) < 5.5  # the 5 s call
