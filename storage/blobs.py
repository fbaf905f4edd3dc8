"""Content-addressed store for call audio: a blob's name is the SHA-256 of its bytes.

Originals are evidence, so they are never altered: an existing blob is never rewritten, and derived
audio (the redacted copy) is a blob of its own. They are customers' personal data too: private to
their owner (owner-only files here, no public ACL in a bucket).

Two stores behind one interface (``BlobStore``): a local folder, the default, and S3-compatible
object storage (AWS S3, MinIO, Ceph) for workers on several machines. Decoding and playback need a
file, so ``local_path`` gives one: the stored file itself, or a copy downloaded once into a private
cache and checked against its hash.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

from storage.errors import NotFound, StorageError, TransientStorageError
from storage.private_files import make_private_folder

_CHUNK = 1 << 20
_SHA256 = re.compile(r"[0-9a-f]{64}")
_STORED_AUDIO = 0o400  # read-only, and for its owner only


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    created: bool  # False: the store already held these bytes


class BlobStore(Protocol):
    """``copies``, in both stores: local folders where files derived from a blob are kept by its
    SHA-256 (``<sha256>.wav``, the review app's playback transcodes), so that deleting a customer's
    audio leaves no copy of it."""

    def put(self, source: Path) -> StoredBlob:
        """Store the bytes of ``source``; a failed write leaves nothing and raises ``StorageError``."""
        ...

    def delete(self, sha256: str) -> None:
        """Remove a blob that no recording refers to, its copies first: an interruption leaves the
        blob, which a sweep for unreferenced audio finds again."""
        ...

    def stored(self) -> Iterator[tuple[str, float]]:
        """Every blob, as (SHA-256, last stored as a Unix time): what a sweep for unreferenced audio walks."""
        ...

    def local_path(self, sha256: str) -> Path:
        """A local file holding the blob's bytes; ``NotFound`` when the store does not hold it."""
        ...


class LocalBlobStore:
    """Blobs in a folder: ``<root>/<first two hex digits>/<sha256>``, read-only and owner-only."""

    def __init__(self, root: Path, copies: Sequence[Path] = ()) -> None:
        self.root = Path(root)
        self.copies = tuple(Path(folder) for folder in copies)

    def __str__(self) -> str:
        return str(self.root)

    def put(self, source: Path) -> StoredBlob:
        staged, sha256 = _staged_copy(source, self.root / "tmp", str(self))  # same file system: atomic rename
        target = self._path(sha256)
        if target.exists():
            staged.unlink()
            # Fresh again: a sweep for unreferenced audio leaves young blobs alone, and this one is
            # about to be referenced (a call deleted earlier may have left it behind).
            os.utime(target)
            return StoredBlob(sha256=sha256, created=False)
        make_private_folder(target.parent)
        staged.chmod(_STORED_AUDIO)
        # Two processes storing the same bytes at once both rename; the loser replaces identical bytes.
        os.replace(staged, target)
        return StoredBlob(sha256=sha256, created=True)

    def delete(self, sha256: str) -> None:
        _delete_copies(self.copies, sha256)
        self._path(sha256).unlink(missing_ok=True)

    def stored(self) -> Iterator[tuple[str, float]]:
        for path in sorted(self.root.glob("[0-9a-f][0-9a-f]/*")):
            if _SHA256.fullmatch(path.name) and path.parent.name == path.name[:2]:
                with suppress(FileNotFoundError):
                    yield path.name, path.stat().st_mtime

    def local_path(self, sha256: str) -> Path:
        path = self._path(sha256)
        if not path.is_file():
            raise NotFound(f"audio {sha256} is missing from the store at {self.root}")
        return path

    def _path(self, sha256: str) -> Path:
        return self.root / _checked(sha256)[:2] / sha256


class S3BlobStore:
    """Blobs as objects ``<prefix><first two hex digits>/<sha256>`` in a bucket, reached through
        boto3 (credentials from the standard AWS chain: environment, ``~/.aws``, an instance role; never
        from the database). Objects are written without an ACL, so they are as private as the bucket;
        the bucket must not be public. Downloads are kept in ``cache`` (owner-only) and checked against
        their hash before use, so a changed object is refused, not played or transcribed. The cache
    keeps at most ``cache_bytes``, least recently used out first: a worker must not end up holding a
    copy of every call."""

    def __init__(
        self,
        bucket: str,
        prefix: str,
        cache: Path,
        copies: Sequence[Path] = (),
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        cache_bytes: int = 2 << 30,
    ) -> None:
        import boto3  # type: ignore[import-untyped]  # here: only S3 deployments pay its import time

        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.cache = Path(cache)
        self.copies = tuple(Path(folder) for folder in copies)
        self.cache_bytes = cache_bytes
        self._client = boto3.client("s3", endpoint_url=endpoint_url, region_name=region)

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def put(self, source: Path) -> StoredBlob:
        staged, sha256 = _staged_copy(source, self.cache / "tmp", str(self))
        key = self._key(sha256)
        try:
            if self._exists(key):
                # Fresh again for the sweep of unreferenced audio (see LocalBlobStore.put): copying
                # an object onto itself with new metadata renews its time, its bytes stay.
                self._call(
                    self._client.copy_object,
                    Bucket=self.bucket,
                    Key=key,
                    CopySource={"Bucket": self.bucket, "Key": key},
                    Metadata={"sha256": sha256},
                    MetadataDirective="REPLACE",
                )
                return StoredBlob(sha256=sha256, created=False)
            with staged.open("rb") as body:
                self._call(
                    self._client.put_object,
                    Bucket=self.bucket,
                    Key=key,
                    Body=body,
                    Metadata={"sha256": sha256},
                    ContentType="application/octet-stream",
                )
            return StoredBlob(sha256=sha256, created=True)
        finally:
            staged.unlink(missing_ok=True)

    def delete(self, sha256: str) -> None:
        _delete_copies((*self.copies, self.cache), sha256)
        self._call(self._client.delete_object, Bucket=self.bucket, Key=self._key(sha256))

    def stored(self) -> Iterator[tuple[str, float]]:
        pages = self._client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix)
        for page in self._call(iter, pages):
            for item in page.get("Contents", ()):
                folder, _, name = item["Key"][len(self.prefix) :].partition("/")
                if _SHA256.fullmatch(name) and folder == name[:2]:
                    yield name, item["LastModified"].timestamp()

    def local_path(self, sha256: str) -> Path:
        cached = self.cache / _checked(sha256)[:2] / sha256
        if cached.is_file():
            return cached
        make_private_folder(self.cache / "tmp")
        with tempfile.NamedTemporaryFile(dir=self.cache / "tmp", delete=False) as writer:
            try:
                self._call(self._client.download_fileobj, self.bucket, self._key(sha256), writer)
            except BaseException:
                os.unlink(writer.name)
                raise
        downloaded = Path(writer.name)
        if _file_sha256(downloaded) != sha256:
            downloaded.unlink()
            raise StorageError(f"audio {sha256} in {self} does not hash to its name: it was altered")
        make_private_folder(cached.parent)
        downloaded.chmod(_STORED_AUDIO)
        os.replace(downloaded, cached)
        self._trim_cache(keep=cached)
        return cached

    def _trim_cache(self, keep: Path) -> None:
        files = [(p.stat(), p) for p in self.cache.glob("[0-9a-f][0-9a-f]/*") if p != keep]
        total = sum(info.st_size for info, _ in files) + keep.stat().st_size
        for info, path in sorted(files, key=lambda item: max(item[0].st_atime, item[0].st_mtime)):
            if total <= self.cache_bytes:
                break
            path.unlink(missing_ok=True)
            total -= info.st_size

    def _exists(self, key: str) -> bool:
        try:
            self._call(self._client.head_object, Bucket=self.bucket, Key=key)
        except NotFound:
            return False
        return True

    def _key(self, sha256: str) -> str:
        return f"{self.prefix}{_checked(sha256)[:2]}/{sha256}"

    def _call(self, operation: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """One request, with the SDK's faults in storage's terms: a missing object is NotFound, a
        connection or throttling fault is transient (the worker tries the job again later)."""
        from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, EndpointConnectionError  # type: ignore[import-untyped]

        try:
            return operation(*args, **kwargs)
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in ("404", "NoSuchKey", "NotFound"):
                raise NotFound(f"audio is missing from {self} ({code})") from error
            if code in ("SlowDown", "RequestTimeout", "ServiceUnavailable", "InternalError", "503", "500"):
                raise TransientStorageError(f"object storage {self} is busy: {code}") from error
            raise StorageError(f"object storage {self} refused the request: {error}") from error
        except (EndpointConnectionError, ConnectionError) as error:
            raise TransientStorageError(f"cannot reach object storage {self}: {error}") from error
        except BotoCoreError as error:
            raise StorageError(f"object storage {self}: {error}") from error


def put_bytes(store: BlobStore, data: bytes) -> StoredBlob:
    """Store bytes made in memory (a redacted copy) by way of a private temporary file."""
    with tempfile.TemporaryDirectory() as folder:  # made 0700, like every folder of customers' audio
        path = Path(folder) / "blob"
        path.write_bytes(data)
        return store.put(path)


def open_blob_store(
    location: str,
    cache: Path,
    copies: Sequence[Path] = (),
    *,
    endpoint_url: str | None = None,
    region: str | None = None,
) -> BlobStore:
    """The store a setting names: a folder path, or ``s3://bucket[/prefix]``."""
    parsed = urlparse(checked_location(location))
    if parsed.scheme == "s3":
        return S3BlobStore(
            parsed.netloc, parsed.path, cache, copies, endpoint_url=endpoint_url, region=region
        )
    return LocalBlobStore(Path(location).expanduser(), copies)


def checked_location(location: str) -> str:
    """``location`` when it names a store (a folder, or ``s3://bucket[/prefix]``), else ValueError."""
    parsed = urlparse(location)
    if parsed.scheme == "s3" and not parsed.netloc:
        raise ValueError(f"{location!r} names no bucket; expected s3://bucket[/prefix]")
    if parsed.scheme not in ("", "s3"):
        raise ValueError(f"{location!r}: audio storage is a folder or s3://bucket[/prefix]")
    return location


def _checked(sha256: str) -> str:
    if not _SHA256.fullmatch(sha256):
        raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
    return sha256


def _staged_copy(source: Path, staging: Path, store: str) -> tuple[Path, str]:
    """A private copy of ``source`` in ``staging`` and its SHA-256, hashed while copying so the
    source is read once; a failed write (a full disk) leaves nothing and raises ``StorageError``."""
    digest = hashlib.sha256()
    try:
        make_private_folder(staging)
        with open(source, "rb") as reader, tempfile.NamedTemporaryFile(dir=staging, delete=False) as writer:
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
        raise StorageError(f"cannot store the audio of {source} in {store}: {error.strerror}") from error
    return Path(writer.name), digest.hexdigest()


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as reader:
        while chunk := reader.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _delete_copies(folders: Sequence[Path], sha256: str) -> None:
    _checked(sha256)
    for folder in folders:
        for copy in (*folder.glob(f"{sha256}.*"), folder / sha256[:2] / sha256):
            copy.unlink(missing_ok=True)
