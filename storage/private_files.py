"""Customers' data on disk, readable by its owner only: call audio, the database, audio converted for
playback.

Recordings, transcripts and messages are personal data; another account on the same machine must
not read them. Folders made here are 0700 and files 0600 (stored audio 0400: originals are never
rewritten). A folder that already exists is left as it is, as the operator may share it on
purpose (a backup account's group); the files inside are still owner-only.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["PRIVATE_FILE", "PRIVATE_FOLDER", "make_private_file", "make_private_folder"]

PRIVATE_FOLDER = 0o700
PRIVATE_FILE = 0o600


def make_private_folder(path: Path) -> Path:
    """``path`` and its missing parents, each made 0700 (``mkdir(parents=True)`` ignores the mode)."""
    for folder in reversed([path, *path.parents]):
        if not folder.is_dir():
            folder.mkdir(mode=PRIVATE_FOLDER, exist_ok=True)
    return path


def make_private_file(path: Path) -> Path:
    """``path`` as an owner-only file: created empty when missing, else group and others lose their
    access (the owner's stays: a database made read-only on purpose stays read-only).

    Creating the file before SQLite does matters: SQLite gives its -wal and -shm files the mode of
    the database file, and an empty file is an empty database.
    """
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    except FileExistsError:
        mode = path.stat().st_mode
        if mode & 0o077:
            os.chmod(path, mode & 0o700)
    return path
