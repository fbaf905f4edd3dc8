"""Checkpoints of the audit chain's head, kept outside the database so that a cut or rolled-back log shows.

The hash chain proves each row against the one before it, but a log whose newest rows were deleted,
or a database file put back to an older copy, is still a valid chain. So after each commit that
appended audit rows, the head (how many rows there were, the last one's hash, when) is appended as
one JSON line to ``audit-checkpoints.jsonl`` beside the audit key, which whoever can write the
database cannot change. ``storage.audit.verify_audit_chain`` holds the log against every checkpoint.

Several processes append at once: each line is one ``write`` on a file opened with ``O_APPEND``, so
lines never interleave, though they may land slightly out of order (a checkpoint a little behind
the head is fine: rows past the newest checkpoint are covered by the next one). No fsync: like the
database's own ``synchronous = NORMAL``, a power cut may lose the last checkpoints, never reorder them.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from storage.errors import StorageError

__all__ = ["CHECKPOINT_FILE", "DISAGREE", "Checkpoint", "CheckpointLog"]

CHECKPOINT_FILE = "audit-checkpoints.jsonl"
DISAGREE = "(checkpoints disagree)"  # stands for the hash where two checkpoints of one row differ


@dataclass(frozen=True)
class Checkpoint:
    rows: int  # the log held rows 1..rows; ids are gapless, so ``rows`` is also the head's id
    hash: str  # the head row's hash
    at: datetime


class CheckpointLog:
    def __init__(self, folder: Path) -> None:
        self.path = folder / CHECKPOINT_FILE

    def append(self, checkpoint: Checkpoint) -> None:
        line = json.dumps(
            {"rows": checkpoint.rows, "hash": checkpoint.hash, "at": checkpoint.at.isoformat()},
            separators=(",", ":"),
        )
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        except OSError as error:
            raise StorageError(f"cannot write the audit checkpoints {self.path}: {error.strerror}") from error
        try:
            os.write(descriptor, (line + "\n").encode())
        finally:
            os.close(descriptor)

    def heads(self) -> dict[int, str]:
        """Each checkpointed row's id and hash; ``DISAGREE`` where two checkpoints saw different rows
        at one id (the log was rolled back and written again). Empty when there is no file yet."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        lines = text.split("\n")
        # A crash in the middle of a write leaves a last line without its newline: it never counted.
        complete = lines[:-1]
        heads: dict[int, str] = {}
        for number, line in enumerate(complete, start=1):
            try:
                value = json.loads(line)
                rows, head = int(value["rows"]), str(value["hash"])
            except (ValueError, KeyError, TypeError) as error:
                raise StorageError(
                    f"the audit checkpoints {self.path} are damaged at line {number}"
                ) from error
            heads[rows] = head if heads.get(rows, head) == head else DISAGREE
        return heads
