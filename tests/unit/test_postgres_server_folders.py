"""The tests' PostgreSQL helper deletes the folders that killed runs left behind, and only those."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.postgres_server import STALE_AFTER_S, remove_stale_folders


def _server_folder(parent: Path, name: str, pid: int | None, age_s: float) -> Path:
    data = parent / f"earshot-pg-{name}" / "data"
    data.mkdir(parents=True)
    (data / "PG_VERSION").write_text("15\n")
    if pid is not None:
        (data / "postmaster.pid").write_text(f"{pid}\n{data}\n")
    stamp = data.parent.stat().st_mtime - age_s
    os.utime(data.parent, (stamp, stamp))
    return data.parent


def test_only_old_folders_without_a_live_postmaster_are_deleted(tmp_path: Path) -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()  # a pid that no longer runs
    old = STALE_AFTER_S + 60
    stopped = _server_folder(tmp_path, "stopped", None, old)  # clean shutdown: no postmaster.pid
    crashed = _server_folder(tmp_path, "crashed", gone.pid, old)
    running = _server_folder(tmp_path, "running", os.getpid(), old)
    starting = _server_folder(tmp_path, "starting", None, 0)  # initdb still writing it
    other = tmp_path / "someone-else"
    other.mkdir()
    os.utime(other, (0, 0))

    assert sorted(remove_stale_folders(tmp_path)) == sorted([stopped, crashed])
    assert not stopped.exists() and not crashed.exists()
    assert running.exists() and starting.exists() and other.exists()
