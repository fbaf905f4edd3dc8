"""A worker's stop request: SIGTERM (a supervisor, ``docker stop``, Kubernetes) or Ctrl-C.

A supervisor waits seconds before it kills; a job can take minutes. So a stopping worker takes no
new job and gives the one in hand back to the queue at its next progress step (``jobs.release``):
another worker picks it up at once instead of after the stale timeout.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class StopRequested(Exception):
    """Raised inside a job's progress step when the worker has been asked to stop."""


class StopSignal:
    def __init__(self) -> None:
        self.requested = False

    def check(self) -> None:
        if self.requested:
            raise StopRequested

    def request(self, signum: int = 0, frame: FrameType | None = None) -> None:
        self.requested = True


@contextmanager
def stop_on_signals() -> Iterator[StopSignal]:
    """A StopSignal that SIGTERM and SIGINT set while the block runs (in the main thread, where
    Python handles signals); the handlers before it are put back afterwards."""
    stop = StopSignal()
    previous = {signum: signal.signal(signum, stop.request) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
