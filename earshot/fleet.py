"""``earshot worker --concurrency N``: N worker processes on one machine, each with its own models.

Processes, not threads: each loads its own faster-whisper and diarization models and decodes on its
own cores, and one that crashes takes no other down. The parent only supervises: SIGTERM or Ctrl-C
reaches it and it passes SIGTERM on, so every child gives its job in hand back (``earshot.stopping``)
and the parent returns once all have exited; no child outlives it.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
from dataclasses import dataclass
from types import FrameType

from earshot.metrics import WorkerMetrics
from earshot.settings import Settings
from earshot.stopping import stop_on_signals
from earshot.worker import Report, WorkerReport, default_worker_id, open_queue, run_worker
from transcribe.types import ProgressHook


def run_fleet(settings: Settings, count: int, *, drain_and_exit: bool, metrics: MetricsAddress | None) -> int:
    """Run ``count`` workers until they stop; exit status 1 if any of them failed. With ``metrics``,
    worker k serves its metrics on the port k - 1 above the one given."""
    spawn = multiprocessing.get_context("spawn")  # no fork: a forked child would share the parent's engine
    children = [
        spawn.Process(
            target=_member,
            args=(settings, drain_and_exit, number, metrics and metrics.shifted(number - 1)),
            name=f"earshot-worker-{number}",
        )
        for number in range(1, count + 1)
    ]

    def pass_on(signum: int, frame: FrameType | None) -> None:
        for child in children:
            if child.pid is not None and child.is_alive():
                os.kill(child.pid, signal.SIGTERM)

    previous = {signum: signal.signal(signum, pass_on) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        for child in children:
            child.start()
        for child in children:
            child.join()
    finally:
        pass_on(signal.SIGTERM, None)  # an exception here must not leave children behind
        for child in children:
            if child.pid is not None:
                child.join()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return int(any(child.exitcode != 0 for child in children))


@dataclass(frozen=True)
class MetricsAddress:
    host: str
    port: int

    def shifted(self, by: int) -> MetricsAddress:
        return MetricsAddress(self.host, self.port + by)


def run_one(
    settings: Settings,
    *,
    drain_and_exit: bool,
    report: Report,
    worker_id: str | None = None,
    hook: ProgressHook | None = None,
    metrics_at: MetricsAddress | None = None,
) -> WorkerReport:
    """One worker in this process, stopped by SIGTERM or Ctrl-C, serving its metrics if asked."""
    metrics = WorkerMetrics()
    if metrics_at is not None:
        metrics.serve(metrics_at.port, metrics_at.host)
    with stop_on_signals() as stop:
        return run_worker(
            open_queue(settings, report),
            settings,
            drain_and_exit=drain_and_exit,
            worker_id=worker_id,
            hook=hook,
            report=report,
            stop=stop,
            metrics=metrics,
        )


def _member(settings: Settings, drain_and_exit: bool, number: int, metrics_at: MetricsAddress | None) -> None:
    def say(line: str) -> None:
        print(f"worker {number}: {line}", file=sys.stderr, flush=True)

    worker_id = f"{default_worker_id()}#{number}"
    say(
        run_one(
            settings, drain_and_exit=drain_and_exit, report=say, worker_id=worker_id, metrics_at=metrics_at
        ).summary()
    )
