"""open_database on real SQLite files: pragmas, folders, and clear errors for read-only/locked files."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from storage.db import Database, StorageError, open_database, session_scope
from storage.models import Agent


def test_open_creates_folder_and_tunes_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "earshot.db"
    db = open_database(f"sqlite:///{path}", busy_timeout=2.5)
    try:
        assert path.is_file()
        with db.engine.connect() as connection:
            pragma = lambda name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()  # noqa: E731
            assert pragma("journal_mode") == "wal"
            assert pragma("foreign_keys") == 1
            assert pragma("busy_timeout") == 2500
            assert pragma("synchronous") == 1  # NORMAL
            version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        assert version is not None
    finally:
        db.engine.dispose()


def test_the_database_and_its_folder_are_readable_by_their_owner_only(tmp_path: Path) -> None:
    data = tmp_path / "data"
    path = data / "earshot.db"
    db = open_database(f"sqlite:///{path}")
    try:
        with session_scope(db) as session:
            session.add(Agent(name="Sam"))  # a write: SQLite makes the -wal and -shm files
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in data.iterdir()}
    finally:
        db.engine.dispose()
    assert modes == {"earshot.db": 0o600, "earshot.db-wal": 0o600, "earshot.db-shm": 0o600}
    assert stat.S_IMODE(data.stat().st_mode) == 0o700


def test_a_database_left_readable_by_others_is_made_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "earshot.db"
    open_database(f"sqlite:///{path}").engine.dispose()
    for file in tmp_path.iterdir():
        file.chmod(0o644)  # as an earlier version left it
    open_database(f"sqlite:///{path}").engine.dispose()
    assert {stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()} == {0o600}


def test_session_scope_commits_on_success_and_rolls_back_on_error(db: Database) -> None:
    with session_scope(db) as session:
        session.add(Agent(name="kept"))
    with pytest.raises(RuntimeError, match="boom"), session_scope(db) as session:
        session.add(Agent(name="dropped"))
        session.flush()
        raise RuntimeError("boom")
    with db.sessionmaker() as session:
        assert session.scalars(select(Agent.name)).all() == ["kept"]


def test_read_only_database_gives_clear_error(tmp_path: Path) -> None:
    # Tests run as root, where chmod 0444 does not stop writes; SQLite's mode=ro makes the file
    # read-only the way a read-only mount or a file owned by another user does for earshot.
    path = tmp_path / "earshot.db"
    open_database(f"sqlite:///{path}").engine.dispose()
    before = path.read_bytes()
    with pytest.raises(StorageError) as caught:
        open_database(f"sqlite:///file:{path}?mode=ro&uri=true")
    assert str(path) in str(caught.value)
    assert "read-only" in str(caught.value)
    assert path.read_bytes() == before


def test_locked_database_gives_clear_error(tmp_path: Path) -> None:
    # Simulates another process in the middle of a long write: it holds SQLite's write lock for longer
    # than our busy_timeout.
    path = tmp_path / "earshot.db"
    open_database(f"sqlite:///{path}").engine.dispose()
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        with pytest.raises(StorageError) as caught:
            open_database(f"sqlite:///{path}", busy_timeout=0.2)
        assert str(path) in str(caught.value)
        assert "locked" in str(caught.value)
    finally:
        holder.close()
    open_database(f"sqlite:///{path}").engine.dispose()  # usable again once the other writer is done


def test_write_while_locked_gives_clear_error_and_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "earshot.db"
    db = open_database(f"sqlite:///{path}", busy_timeout=0.2)
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        with pytest.raises(StorageError, match="locked"), session_scope(db) as session:
            session.add(Agent(name="never"))
        holder.rollback()
        with db.sessionmaker() as session:
            assert session.scalar(select(func.count()).select_from(Agent)) == 0
    finally:
        holder.close()
        db.engine.dispose()
