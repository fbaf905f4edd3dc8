"""Back up and restore what Earshot keeps, consistently while workers write.

A backup folder is laid out like a data folder, plus ``manifest.json``: first everything in the data
folder but the database, the audio and caches (keys, audit checkpoints, config); then the database,
copied with SQLite's online backup API (one read transaction, so it holds every committed
transcript, including those still in the WAL that a plain file copy misses); then the original audio
(a recording in the copied database always has its audio; audio newer than the copy is harmless).
The manifest is written last: a folder without one is an interrupted backup and is never restored.
"""

from __future__ import annotations

import filecmp
import json
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import make_url

from earshot.settings import Settings
from storage.audit import verify_audit_chain
from storage.db import describe_url, open_database, sqlite_path

__all__ = ["BackupError", "BackupManifest", "RestoreReport", "back_up", "restore"]

MANIFEST_NAME = "manifest.json"
DATABASE_NAME = "earshot.db"
AUDIO_DIR = "audio"
# Rebuilt on demand from the originals and the installed packages: not worth keeping twice.
CACHE_DIRS = ("playback", "models", "audio-cache", "tmp")
# A database's companions: never copied as files (the online backup reads through them).
DATABASE_SUFFIXES = ("", "-wal", "-shm", "-journal")
_BUSY_TIMEOUT_MS = 10_000


class BackupError(RuntimeError):
    """A backup or restore that cannot go ahead; nothing already in place was overwritten."""


@dataclass(frozen=True)
class BackupManifest:
    created_at: str  # ISO 8601, UTC: when the database copy was taken
    database: str | None  # file name in the backup; None when the database is not SQLite
    schema_revision: str | None
    recordings: int | None
    transcripts: int | None
    audio_files: int
    other_files: int


@dataclass(frozen=True)
class RestoreReport:
    manifest: BackupManifest
    audio_files: int  # copied now; audio already in the store is kept
    other_files: int
    audit_rows: int  # verified after the restore


def back_up(settings: Settings, dest: Path) -> BackupManifest:
    """Copy the database, the audio and the rest of the data folder into ``dest`` (new, empty, or an
    earlier backup, whose audio is reused)."""
    data_dir, dest = settings.data_dir.resolve(), dest.resolve()
    if dest == data_dir or dest.is_relative_to(data_dir):
        raise BackupError(f"{dest} is inside the data folder {data_dir}: back up to another folder")
    if dest.is_file() or (dest.is_dir() and any(dest.iterdir()) and not (dest / MANIFEST_NAME).exists()):
        raise BackupError(f"{dest} is not empty and holds no earlier backup: choose a new or empty folder")
    try:
        dest.mkdir(mode=0o700, parents=True, exist_ok=True)
        (dest / MANIFEST_NAME).unlink(missing_ok=True)  # until the new one is written, this is incomplete
        created_at = datetime.now(UTC).isoformat(timespec="seconds")
        # Keys and audit checkpoints before the database: a checkpoint then never names a row the
        # copy lacks (verify takes one behind the log's head in its stride, not one beyond it).
        others = _copy_tree(data_dir, dest, _other_files(settings), 0o600, True)
        database = _database_file(settings)
        revision, recordings, transcripts = None, None, None
        if database is not None:
            _snapshot_database(database, dest / DATABASE_NAME)
            revision, recordings, transcripts = _database_facts(dest / DATABASE_NAME)
        _copy_tree(settings.blobs_dir, dest / AUDIO_DIR, _audio_files(settings.blobs_dir), 0o400, False)
        manifest = BackupManifest(
            created_at=created_at,
            database=DATABASE_NAME if database is not None else None,
            schema_revision=revision,
            recordings=recordings,
            transcripts=transcripts,
            audio_files=sum(1 for _ in _audio_files(dest / AUDIO_DIR)),  # this copy's and earlier ones'
            other_files=others,
        )
        _write_private(dest / MANIFEST_NAME, json.dumps(asdict(manifest), indent=2) + "\n")
    except (OSError, sqlite3.Error) as error:
        raise BackupError(f"backup to {dest} failed, it is incomplete: {_reason(error)}") from error
    return manifest


def restore(settings: Settings, source: Path, *, force: bool) -> RestoreReport:
    """Put a backup back into the data folder, then verify the audit chain.

    Without ``force``, an existing database or a file that differs from the backup's is left alone
    and the restore is refused, naming them."""
    manifest = _read_manifest(source)
    target = _database_file(settings)
    if manifest.database is not None and target is None:
        configured = describe_url(make_url(settings.database_url))
        raise BackupError(
            f"the backup holds a SQLite database, but the database is {configured}: "
            "load the data into that database with its own tools, or restore to a SQLite data folder"
        )
    others = list(_files_under(source, skip={MANIFEST_NAME, AUDIO_DIR, *_database_names(DATABASE_NAME)}))
    if not force:
        in_the_way = [str(target)] if manifest.database and target is not None and _exists(target) else []
        in_the_way += [
            str(settings.data_dir / name)
            for name in others
            if (settings.data_dir / name).exists()
            and not filecmp.cmp(source / name, settings.data_dir / name)
        ]
        if in_the_way:
            raise BackupError(f"not overwriting {', '.join(in_the_way)}: use --force to replace them")
    try:
        settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Keys and checkpoints first, then audio, then the database that refers to them.
        copied_others = _copy_tree(source, settings.data_dir, others, 0o600, True)
        audio = _copy_tree(
            source / AUDIO_DIR, settings.blobs_dir, _audio_files(source / AUDIO_DIR), 0o400, False
        )
        if manifest.database is not None and target is not None:
            _restore_database(source / manifest.database, target)
    except (OSError, sqlite3.Error) as error:
        raise BackupError(f"restore from {source} failed: {_reason(error)}") from error
    # Opening also brings an older backup's schema up to date.
    db = open_database(settings.database_url, secrets_dir=settings.secrets_dir)
    try:
        verified = verify_audit_chain(db)
    finally:
        db.engine.dispose()
    if not verified.ok:
        raise BackupError(
            f"restored, but the audit log does not verify after {verified.rows_checked - 1} good row(s): "
            f"{verified.problem}"
        )
    return RestoreReport(
        manifest=manifest, audio_files=audio, other_files=copied_others, audit_rows=verified.rows_checked
    )


def _database_file(settings: Settings) -> Path | None:
    return sqlite_path(make_url(settings.database_url))


def _database_names(name: str) -> set[str]:
    return {name + suffix for suffix in DATABASE_SUFFIXES}


def _exists(database: Path) -> bool:
    return database.exists() and database.stat().st_size > 0


def _snapshot_database(source: Path, target: Path) -> None:
    """SQLite's online backup in one step: one read transaction, so the copy is one committed state.
    It goes through a temporary file, so an interrupted backup never leaves half a database."""
    if not source.exists():
        raise BackupError(f"there is no database at {source}")
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(partial)) as dst:
        src.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        src.backup(dst)
        # One self-contained file: whoever opens the copy later leaves no WAL beside it to miss.
        dst.execute("PRAGMA journal_mode = DELETE")
    partial.chmod(0o600)
    os.replace(partial, target)


def _restore_database(source: Path, target: Path) -> None:
    """Write the backup through the target's own connection: a WAL left beside an older database at
    ``target`` is then never replayed into the restored one."""
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with closing(_read_only(source)) as src, closing(sqlite3.connect(target)) as dst:
        dst.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        src.backup(dst)
    target.chmod(0o600)


def _read_only(database: Path) -> sqlite3.Connection:
    """A backup's database (a rollback-journal file, see above), opened without writing to it."""
    return sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True)


def _database_facts(copy: Path) -> tuple[str, int, int]:
    """The copy's schema revision, recordings and transcripts."""
    with closing(_read_only(copy)) as connection:
        return connection.execute(
            "SELECT (SELECT version_num FROM alembic_version), (SELECT count(*) FROM recordings), "
            "(SELECT count(*) FROM transcripts)"
        ).fetchone()


def _audio_files(root: Path) -> Iterator[str]:
    """The stored originals (``ab/abcdef...``), not the store's staging folder."""
    if root.is_dir():
        for path in sorted(root.glob("??/*")):
            if path.is_file() and path.name.startswith(path.parent.name) and len(path.name) == 64:
                yield str(path.relative_to(root))


def _other_files(settings: Settings) -> Iterator[str]:
    """Everything in the data folder that is neither a database, the audio nor a cache. A SQLite
    file is never copied as a file (unused, it is a leftover; in use, the copy would be torn)."""
    skip = {AUDIO_DIR, MANIFEST_NAME, *CACHE_DIRS, *_database_names(DATABASE_NAME)}
    database = _database_file(settings)
    if database is not None and database.parent.resolve() == settings.data_dir.resolve():
        skip |= _database_names(database.name)
    return _files_under(settings.data_dir, skip=skip)


def _files_under(root: Path, *, skip: set[str]) -> Iterator[str]:
    """Regular files under ``root`` (relative paths), leaving out the top-level names in ``skip``."""
    if not root.is_dir():
        return
    for folder, dirs, files in os.walk(root):
        here = Path(folder).relative_to(root)
        if here == Path("."):
            dirs[:] = [name for name in dirs if name not in skip]
            files = [name for name in files if name not in skip]
        for name in sorted(files):
            if (Path(folder) / name).is_file() and not (Path(folder) / name).is_symlink():
                yield str(here / name)


def _copy_tree(source: Path, target: Path, names: Iterable[str], mode: int, overwrite: bool) -> int:
    """Copy ``names`` (relative to ``source``) owner-only; returns how many were copied. Without
    ``overwrite`` a file already there is kept: audio is named by its content, so it is the same."""
    copied = 0
    for name in names:
        destination = target / name
        if destination.exists() and not overwrite:
            continue
        destination.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=destination.parent, delete=False) as partial:
            try:
                with open(source / name, "rb") as reader:
                    shutil.copyfileobj(reader, partial)
                partial.flush()
                os.fsync(partial.fileno())
            except BaseException:
                os.unlink(partial.name)
                raise
        os.chmod(partial.name, mode)
        os.replace(partial.name, destination)
        copied += 1
    return copied


def _write_private(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    os.replace(partial, path)


def _read_manifest(source: Path) -> BackupManifest:
    try:
        return BackupManifest(**json.loads((source / MANIFEST_NAME).read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise BackupError(
            f"{source} is not a complete Earshot backup (it has no {MANIFEST_NAME}; an interrupted backup "
            "has none)"
        ) from None
    except (OSError, ValueError, TypeError) as error:
        raise BackupError(f"{source / MANIFEST_NAME} cannot be read: {error}") from error


def _reason(error: OSError | sqlite3.Error) -> str:
    if isinstance(error, OSError):
        return f"{error.strerror or error}" + (f": {error.filename}" if error.filename else "")
    return str(error)
