"""The audit log as evidence, attacked the way someone holding the database (but not the key and
checkpoints in the secrets folder) would: with their own connection, the append-only triggers dropped.
On SQLite and PostgreSQL alike, but for the attacks only a file allows (copying it back, REPLACE).

Each attack must make ``verify_audit_chain`` fail at the first bad row and say what happened.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import sqlite3
import stat
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import text

from storage.audit import (
    export_audit_csv,
    record_event,
    verify_audit_chain,
    verify_audit_csv,
)
from storage.audit_checkpoints import CHECKPOINT_FILE
from storage.db import Database, alembic_config, create_storage_engine, open_database
from storage.errors import StorageError
from storage.models import as_utc
from storage.secrets import SecretStore
from tests.unit.storage.test_audit import drop_guards


def _record(db: Database, count: int) -> None:
    for i in range(count):
        record_event(db, None, "search_run", f"recording:{i}", {"query": f"refund {i}"}, username=f"user{i}")


def _file(db: Database) -> Path:
    return Path(db.engine.url.database or "")


Attacker = Callable[..., Any]


@pytest.fixture
def attacker(db: Database) -> Attacker:
    """Runs the attacker's SQL in its own transaction on the database, append-only triggers dropped:
    what the database's owner can do (the SQLite file's holder, the PostgreSQL table's owner)."""
    with db.engine.begin() as connection:
        drop_guards(connection)

    def attack(statement: str, **params: Any) -> None:
        with db.engine.begin() as connection:
            connection.execute(text(statement), params)

    return attack


def _plain_hash(prev_hash: str, row: Mapping[str, Any]) -> str:
    """The chain as it is computed without the key: SHA-256 of the previous hash and the row's fields."""
    at = row["at"]  # SQLite gives back the stored text, PostgreSQL a datetime
    at = as_utc(at) if isinstance(at, datetime) else datetime.fromisoformat(at).replace(tzinfo=UTC)
    details = row["details"]
    canonical = json.dumps(
        {
            "id": row["id"],
            "at": at.isoformat(timespec="microseconds"),
            "user_id": row["user_id"],
            "username": row["username"],
            "action": row["action"],
            "target": row["target"],
            "details": json.loads(details) if isinstance(details, str) else details,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


def _rechain(db: Database, from_id: int, scheme: str | None = None) -> None:
    """Recompute hashes and links from ``from_id`` on, as the attacker can: without the key."""
    with db.engine.begin() as connection:
        rows = (
            connection.execute(text("SELECT * FROM audit_log WHERE id >= :id ORDER BY id"), {"id": from_id})
            .mappings()
            .all()
        )
        prev = connection.execute(
            text("SELECT hash FROM audit_log WHERE id = :id"), {"id": from_id - 1}
        ).first()
        prev_hash = prev[0] if prev else "0" * 64
        connection.execute(
            text("UPDATE audit_log SET hash = 'x' || id, prev_hash = 'y' || id WHERE id >= :id"),
            {"id": from_id},
        )
        for row in rows:
            new_hash = _plain_hash(prev_hash, row)
            connection.execute(
                text("UPDATE audit_log SET prev_hash = :prev, hash = :hash, scheme = :scheme WHERE id = :id"),
                {"prev": prev_hash, "hash": new_hash, "scheme": scheme or row["scheme"], "id": row["id"]},
            )
            prev_hash = new_hash


def test_a_rewritten_row_with_the_chain_recomputed_without_the_key_is_found(
    db: Database, attacker: Attacker
) -> None:
    _record(db, 6)
    attacker("UPDATE audit_log SET username = 'nobody' WHERE id = 3")
    _rechain(db, 3)
    result = verify_audit_chain(db)
    assert (result.ok, result.first_bad_id, result.kind) == (False, 3, "changed")
    assert result.problem == "row 3 was changed after it was written (its keyed hash does not match)"


def test_a_rewritten_row_passed_off_as_written_before_the_key_is_found(
    db: Database, attacker: Attacker
) -> None:
    _record(db, 6)
    attacker("UPDATE audit_log SET username = 'nobody' WHERE id = 3")
    _rechain(db, 3, scheme="sha256")
    result = verify_audit_chain(db)
    assert (result.ok, result.first_bad_id, result.kind) == (False, 3, "unkeyed")


def test_a_whole_log_rehashed_as_written_before_the_key_is_found_by_the_checkpoints(
    db: Database, attacker: Attacker
) -> None:
    _record(db, 6)
    attacker("UPDATE audit_log SET username = 'nobody' WHERE id = 3")
    _rechain(db, 1, scheme="sha256")
    result = verify_audit_chain(db)
    assert (result.ok, result.first_bad_id, result.kind) == (False, 1, "rolled_back")
    assert result.problem == "rolled back or rewritten at row 1: a checkpoint saw another row 1"


def test_a_cut_tail_is_found(db: Database, attacker: Attacker) -> None:
    _record(db, 7)
    attacker("DELETE FROM audit_log WHERE id > 4")
    result = verify_audit_chain(db)
    assert (result.ok, result.first_bad_id, result.kind) == (False, 5, "cut_tail")
    assert result.problem == "cut tail: rows 5..7 are missing (a checkpoint saw row 7)"


def test_a_deleted_middle_row_is_found_even_relinked(db: Database, attacker: Attacker) -> None:
    _record(db, 6)
    attacker("DELETE FROM audit_log WHERE id = 3")
    assert (verify_audit_chain(db).first_bad_id, verify_audit_chain(db).kind) == (4, "missing_rows")
    for row_id in (4, 5, 6):  # one by one, in order: each id is free when it is taken
        attacker("UPDATE audit_log SET id = :new WHERE id = :old", new=row_id - 1, old=row_id)
    _rechain(db, 3)
    result = verify_audit_chain(db)
    assert (result.ok, result.first_bad_id, result.kind) == (False, 3, "changed")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # copies the file
def test_an_older_copy_of_the_database_put_back_is_found(db: Database, tmp_path: Path) -> None:
    _record(db, 3)
    copy = tmp_path / "copy.db"
    with sqlite3.connect(_file(db)) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    _record(db, 4)
    db.engine.dispose()
    copy.replace(_file(db))
    for suffix in ("-wal", "-shm"):
        Path(f"{_file(db)}{suffix}").unlink(missing_ok=True)
    result = verify_audit_chain(db)
    assert (result.ok, result.first_bad_id, result.kind) == (False, 4, "cut_tail")
    _record(db, 5)  # the app goes on writing after the old copy: the gap is filled with other rows
    result = verify_audit_chain(db)
    assert (result.ok, result.first_bad_id, result.kind) == (False, 4, "rolled_back")
    assert result.problem == "rolled back or rewritten at row 4: a checkpoint saw another row 4"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # REPLACE: test_audit.py for both
def test_insert_or_replace_is_refused_by_the_database(db: Database) -> None:
    _record(db, 3)
    db.engine.dispose()
    with sqlite3.connect(_file(db)) as connection:  # the triggers as migrated, no pragmas set
        hash_of_2, prev_of_2 = connection.execute(
            "SELECT hash, prev_hash FROM audit_log WHERE id = 2"
        ).fetchone()
        last = connection.execute("SELECT hash FROM audit_log WHERE id = 3").fetchone()[0]
        for row_id, prev_hash, new_hash in (
            (2, prev_of_2, "f" * 64),  # clashes on row 2's id: REPLACE would delete row 2
            (4, last, hash_of_2),  # clashes on row 2's unique hash: REPLACE would delete row 2 too
            (4, "e" * 64, "f" * 64),  # does not link to the last row
        ):
            with pytest.raises(sqlite3.IntegrityError, match="audit_log is append-only"):
                connection.execute(
                    "INSERT OR REPLACE INTO audit_log (id, at, user_id, username, action, target, details,"
                    " prev_hash, hash, scheme) VALUES (?, '2026-01-01 00:00:00.000000', NULL, 'x', 'export',"
                    " NULL, '{}', ?, ?, 'hmac-sha256')",
                    (row_id, prev_hash, new_hash),
                )
    assert verify_audit_chain(db).ok
    assert verify_audit_chain(db).rows_checked == 3


def test_a_checkpoint_behind_the_head_is_fine(db: Database) -> None:
    _record(db, 5)
    checkpoints = db.secrets.folder / CHECKPOINT_FILE
    lines = checkpoints.read_text().splitlines(keepends=True)
    assert len(lines) == 5
    checkpoints.write_text("".join(lines[:2]) + lines[2][:10])  # the last two lost, the third torn
    assert verify_audit_chain(db).ok


def test_a_damaged_checkpoint_file_is_reported(db: Database) -> None:
    _record(db, 2)
    checkpoints = db.secrets.folder / CHECKPOINT_FILE
    checkpoints.write_text("not json\n" + checkpoints.read_text())
    with pytest.raises(StorageError, match="damaged at line 1"):
        verify_audit_chain(db)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # a file has a "beside"
def test_key_and_checkpoints_live_beside_the_database_for_their_owner_only(db: Database) -> None:
    _record(db, 1)
    folder = _file(db).parent / "secrets"
    assert db.secrets.folder == folder
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for name in ("audit.key", CHECKPOINT_FILE):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600


def test_verify_never_makes_a_key_and_says_when_it_is_missing(db: Database) -> None:
    _record(db, 2)
    (db.secrets.folder / "audit.key").unlink()
    with pytest.raises(
        StorageError, match="the audit key is missing from .*: rows written with it cannot be checked"
    ):
        verify_audit_chain(db)
    assert not (db.secrets.folder / "audit.key").exists()


def test_a_database_that_is_not_a_file_must_be_given_a_secrets_folder() -> None:
    with pytest.raises(StorageError, match="not a file: give the folder for its keys"):
        open_database("postgresql+psycopg://earshot@db.example/earshot")


def test_rows_written_before_the_key_verify_as_before_and_the_chain_goes_on_keyed(tmp_path: Path) -> None:
    path = tmp_path / "data" / "earshot.db"
    path.parent.mkdir()
    engine = create_storage_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        command.upgrade(alembic_config(connection), "0007")
        connection.commit()
    engine.dispose()
    with sqlite3.connect(path, isolation_level=None) as old:  # what the code before the key wrote
        prev_hash = "0" * 64
        for row_id in (1, 2):
            row = {"id": row_id, "at": "2026-11-30 10:00:00.000000", "user_id": None, "username": "old"}
            row |= {"action": "sign_in", "target": None, "details": "{}"}
            row_hash = _plain_hash(prev_hash, row)
            old.execute(
                "INSERT INTO audit_log (id, at, user_id, username, action, target, details, prev_hash, hash)"
                " VALUES (:id, :at, :user_id, :username, :action, :target, :details, :prev_hash, :hash)",
                row | {"prev_hash": prev_hash, "hash": row_hash},
            )
            prev_hash = row_hash
    db = open_database(f"sqlite:///{path}")
    _record(db, 2)
    result = verify_audit_chain(db)
    assert (result.ok, result.rows_checked, result.legacy_rows) == (True, 4, 2)


def test_an_exported_copy_verifies_with_the_key_and_not_when_changed(db: Database, tmp_path: Path) -> None:
    _record(db, 4)
    out = io.StringIO()
    export_audit_csv(db, None, out)
    assert verify_audit_csv(io.StringIO(out.getvalue()), db.secrets).ok
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    rows[3][3] = "nobody"  # row 3's username
    changed = io.StringIO()
    csv.writer(changed).writerows(rows)
    result = verify_audit_csv(io.StringIO(changed.getvalue()), db.secrets)
    assert (result.ok, result.first_bad_id, result.kind) == (False, 3, "changed")
    # Keyed rows are checked with the key they were written with: another key fails them all.
    another = SecretStore(tmp_path / "other")
    another.key("audit")
    other = verify_audit_csv(io.StringIO(out.getvalue()), another)
    assert (other.ok, other.first_bad_id) == (False, 1)
