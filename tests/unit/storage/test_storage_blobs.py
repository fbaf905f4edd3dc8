"""BlobStore on real files: content addressing, read-only owner-only originals, idempotent puts."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

import pytest

from storage.blobs import BlobStore
from storage.errors import NotFound


def test_put_stores_read_only_copy_under_its_hash(tmp_path: Path) -> None:
    source = tmp_path / "call.wav"
    data = bytes(range(256)) * 5000  # > one copy chunk, so hashing across chunks is exercised
    source.write_bytes(data)
    store = BlobStore(tmp_path / "blobs")

    stored = store.put(source)

    sha = hashlib.sha256(data).hexdigest()
    assert stored.sha256 == sha
    assert stored.created
    assert stored.path == tmp_path / "blobs" / sha[:2] / sha
    assert stored.path.read_bytes() == data
    # Read-only, and customers' audio: for its owner only, as are the folders that hold it.
    assert stat.S_IMODE(stored.path.stat().st_mode) == 0o400
    for folder in (tmp_path / "blobs", tmp_path / "blobs" / "tmp", stored.path.parent):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    assert source.read_bytes() == data  # the source is left as it was
    assert list((tmp_path / "blobs" / "tmp").iterdir()) == []  # no temporary file left behind
    with store.open_bytes(sha) as stream:
        assert stream.read() == data


def test_second_put_of_same_bytes_keeps_the_original(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "blobs")
    first, second = tmp_path / "a.wav", tmp_path / "b.wav"
    first.write_bytes(b"same bytes")
    second.write_bytes(b"same bytes")
    original = store.put(first)
    inode = original.path.stat().st_ino

    again = store.put(second)

    assert not again.created
    assert again.path == original.path
    assert again.path.stat().st_ino == inode
    assert list((tmp_path / "blobs" / "tmp").iterdir()) == []


def test_bad_and_missing_hashes(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "blobs")
    with pytest.raises(ValueError, match="not a SHA-256"):
        store.path_for("../../etc/passwd")
    with pytest.raises(NotFound, match="missing"):
        store.open_bytes("0" * 64)
