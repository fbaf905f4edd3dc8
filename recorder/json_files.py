"""Read a JSON file from outside (a call sidecar, a chat export) without letting its content crash us.

``json.loads`` accepts more than storage can hold and fails in ways a caller does not expect: an
array nested 100,000 deep raises RecursionError, an integer of 5,000 digits ValueError (Python's
limit on int conversion), ``1e400`` silently becomes infinity and a 30-digit integer overflows the
database's INTEGER later. Every reader goes through ``load_json``, so each of these is one clear
error that names the file, and every number it returns fits a 64-bit integer or a finite float.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

_INT64 = 2**63 - 1


class JsonFileError(ValueError):
    """A JSON file that cannot be read; ``reason`` says why without the file name."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class _NumberOutOfRange(ValueError):
    pass


def load_json(path: Path) -> Any:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise JsonFileError(path, "not UTF-8 text") from None
    except OSError as exc:
        raise JsonFileError(path, f"cannot read: {exc.strerror}") from None
    try:
        return json.loads(text, parse_int=_int, parse_float=_float, parse_constant=_constant)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        raise JsonFileError(path, f"malformed JSON at {where}: {exc.msg}") from None
    except _NumberOutOfRange as exc:
        raise JsonFileError(path, str(exc)) from None
    except RecursionError:
        raise JsonFileError(path, "nested too deeply to read (lists or objects inside each other)") from None


def _int(text: str) -> int:
    # Checked on the digits first: int() itself refuses more than 4,300 of them with a ValueError.
    if len(text.lstrip("-")) > len(str(_INT64)) or abs(value := int(text)) > _INT64:
        raise _NumberOutOfRange(f"number {_shortened(text)} is too large (the limit is {_INT64})")
    return value


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NumberOutOfRange(f"number {_shortened(text)} is too large")
    return value


def _constant(name: str) -> float:
    raise _NumberOutOfRange(f"{name} is not a JSON number")


def _shortened(text: str) -> str:
    return text if len(text) <= 24 else f"{text[:12]}...({len(text)} digits)"
