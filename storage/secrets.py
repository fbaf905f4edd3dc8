"""Secrets kept outside the database: one file per key, created on first use, readable by its owner only.

Whoever can write the database must not also hold what proves it unchanged (the audit chain's key) or
what signs sessions and audio links. The folder is ``<data_dir>/secrets`` by default; processes on
several machines share it (a mounted secret, a Kubernetes Secret volume) to share the keys.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from storage.errors import StorageError

__all__ = ["KEY_BYTES", "SecretStore"]

KEY_BYTES = 32


class SecretStore:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def key(self, name: str) -> bytes:
        """The key called ``name``: read from its file, or made (random, 0600) when there is none yet.

        Creation is exclusive, so two processes starting at once agree on one key."""
        path = self._path(name)
        try:
            return self._read(path)
        except FileNotFoundError:
            pass
        try:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return self._read(path)  # another process made it first
        except OSError as error:
            raise StorageError(f"cannot create the secret {path}: {error.strerror}") from error
        with os.fdopen(descriptor, "w") as out:
            out.write(secrets.token_hex(KEY_BYTES) + "\n")
            out.flush()
            os.fsync(out.fileno())
        return self._read(path)

    def existing_key(self, name: str) -> bytes | None:
        """The key called ``name`` if it was made, else None: what checks with a key must not make one."""
        try:
            return self._read(self._path(name))
        except FileNotFoundError:
            return None

    def _path(self, name: str) -> Path:
        if not name.isidentifier():
            raise ValueError(f"a secret's name is a plain identifier, not {name!r}")
        return self.folder / f"{name}.key"

    @staticmethod
    def _read(path: Path) -> bytes:
        text = path.read_text(encoding="ascii").strip()
        try:
            value = bytes.fromhex(text)
        except ValueError:
            value = b""
        if len(value) < KEY_BYTES:
            # A half-written file (a crash between create and write) or one edited by hand.
            raise StorageError(f"the secret {path} is damaged: it must hold {KEY_BYTES} hex-encoded bytes")
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)  # readable by its owner only, whatever copied it here
        return value
