"""Progress bars go to a terminal only: in a file they are redraw codes that bury real messages."""

from __future__ import annotations

import io

import pytest

from earshot.progress import ProgressBars


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _report(bars: ProgressBars) -> None:
    with bars:
        for done in range(0, 101, 10):
            bars("transcribe", completed=done, total=100)


def test_no_bars_when_stderr_is_a_file(monkeypatch: pytest.MonkeyPatch) -> None:
    log = io.StringIO()
    monkeypatch.setattr("sys.stderr", log)
    _report(ProgressBars("call.wav"))
    assert log.getvalue() == ""


def test_bars_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    _report(ProgressBars("call.wav"))
    assert "call.wav transcribe" in terminal.getvalue()
