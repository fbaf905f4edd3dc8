"""Content-addressed store for original call audio: a file's name is the SHA-256 of its bytes.

Originals are evidence, so they are never altered: stored files are read-only, an existing blob is
never rewritten, and derived audio (redaction, transcodes) must be written elsewhere. They are
customers' personal data too: readable by their owner only (``storage.private_files``).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from storage.errors import NotFound, StorageError
from storage.private_files import make_private_folder

_CHUNK = 1 << 20
_SHA256 = re.compile(r"[0-9a-f]{64}")
_STORED_AUDIO = 0o400  # read-only, and for its owner only


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    path: Path
    created: bool  # False: the store already held these bytes


class BlobStore:
    """``copies``: folders where copies of a blob are kept by its SHA-256 (``<sha256>.wav``, the
    review app's playback transcodes), so that discarding a customer's audio leaves no copy of it."""

    def __init__(self, root: Path, copies: Sequence[Path] = ()) -> None:
        self.root = Path(root)
        self.copies = tuple(Path(folder) for folder in copies)

    def put(self, source: Path) -> StoredBlob:
        """Copy ``source`` into the store, hashing while copying so the file is read only once.

        A write that fails (a full disk) leaves nothing behind and raises ``StorageError``."""
        staging = self.root / "tmp"  # inside the store: same file system, so the rename is atomic
        digest = hashlib.sha256()
        try:
            make_private_folder(staging)
            with (
                open(source, "rb") as reader,
                tempfile.NamedTemporaryFile(dir=staging, delete=False) as writer,
            ):
                try:
                    while chunk := reader.read(_CHUNK):
                        digest.update(chunk)
                        writer.write(chunk)
                    writer.flush()
                    os.fsync(writer.fileno())
                except BaseException:
                    os.unlink(writer.name)
                    raise
        except OSError as error:
            raise StorageError(
                f"cannot store the audio of {source} in {self.root}: {error.strerror}"
            ) from error
        temporary = Path(writer.name)
        sha256 = digest.hexdigest()
        target = self.path_for(sha256)
        if target.exists():
            temporary.unlink()
            # Fresh again: a sweep for unreferenced audio leaves young blobs alone, and this one is
            # about to be referenced (a call deleted earlier may have left it behind).
            os.utime(target)
            return StoredBlob(sha256=sha256, path=target, created=False)
        make_private_folder(target.parent)
        temporary.chmod(_STORED_AUDIO)
        # Two processes storing the same bytes at once both rename; the loser replaces identical bytes.
        os.replace(temporary, target)
        return StoredBlob(sha256=sha256, path=target, created=True)

    def discard(self, sha256: str) -> None:
        """Remove a blob that no recording refers to (the call it came with was not stored, or was
        deleted) with its copies; the copies first, so an interruption leaves the blob, which a sweep
        for unreferenced audio finds again."""
        path = self.path_for(sha256)
        for folder in self.copies:
            for copy in folder.glob(f"{sha256}.*"):
                copy.unlink(missing_ok=True)
        path.unlink(missing_ok=True)

    def stored(self) -> Iterator[tuple[str, Path]]:
        """Every blob in the store, as (SHA-256, path): what a sweep for unreferenced audio walks."""
        for path in sorted(self.root.glob("[0-9a-f][0-9a-f]/*")):
            if _SHA256.fullmatch(path.name) and path.parent.name == path.name[:2]:
                yield path.name, path

    def path_for(self, sha256: str) -> Path:
        if not _SHA256.fullmatch(sha256):
            raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
        return self.root / sha256[:2] / sha256

    def open_bytes(self, sha256: str) -> BinaryIO:
        """The original bytes, opened for reading; the caller closes the file."""
        path = self.path_for(sha256)
        try:
            return open(path, "rb")
        except FileNotFoundError as error:
            raise NotFound(f"audio {sha256} is missing from the store at {self.root}") from error
