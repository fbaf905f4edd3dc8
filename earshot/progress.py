"""Progress bars on stderr for the pipeline's ``hook(step, completed=, total=)`` reports."""

from __future__ import annotations

import sys
from types import TracebackType

from tqdm import tqdm


class ProgressBars:
    """A ``ProgressHook`` that shows one bar per step; a context manager so bars are closed.

    Only on a terminal: redrawn bars written to a file or a pipe (a log, ``2> errors.txt``) are
    carriage returns and escape codes that bury the messages that matter."""

    def __init__(self, label: str, enabled: bool = True) -> None:
        self._label = label
        self._enabled = enabled and sys.stderr.isatty()
        self._bars: dict[str, tqdm] = {}

    def __call__(self, step: str, *, completed: int | None = None, total: int | None = None) -> None:
        if not self._enabled:
            return
        bar = self._bars.get(step)
        if bar is None:
            bar = tqdm(
                desc=f"{self._label} {step}", total=total, file=sys.stderr, leave=False, dynamic_ncols=True
            )
            self._bars[step] = bar
        if completed is not None and completed < bar.n:  # the next job of a worker starts this step anew
            bar.reset(total=total)
        if total is not None and bar.total != total:
            bar.total = total
        if completed is not None:
            bar.n = completed
            bar.refresh()

    def __enter__(self) -> ProgressBars:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        for bar in self._bars.values():
            bar.close()
        self._bars.clear()
