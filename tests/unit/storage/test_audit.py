"""The audit log on a real SQLite file and a real PostgreSQL server: the hash chain verifies, detects
tampering at the tampered row, refuses updates, deletes, TRUNCATE and rows that do not follow the last
one, and stays one chain when several processes write at once."""

from __future__ import annotations

import csv
import io
import json
import multiprocessing
import time
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest
from sqlalchemy import Connection, select, text
from sqlalchemy.exc import IntegrityError

from storage.access import Principal
from storage.audit import (
    COMMAND_LINE,
    GENESIS_HASH,
    export_audit_csv,
    list_audit,
    record_event,
    verify_audit_chain,
)
from storage.audit_checkpoints import CHECKPOINT_FILE
from storage.db import Database, open_database, read_scope
from storage.errors import InvalidValue, PermissionDenied
from storage.models import AuditEntry


def _record_some(db: Database, count: int) -> list[int]:
    return [
        record_event(
            db,
            None,
            "search_run",
            f"recording:{i}",
            {"query": f"refund {i}", "n": i, "ratio": 0.1 * i},
            username=f"user{i % 3}",
        )
        for i in range(count)
    ]


# The append-only triggers of each backend (migrations 0003, 0008, 0012), as their owner drops them.
GUARDS = {
    "sqlite": ("audit_log_no_update", "audit_log_no_delete", "audit_log_append_at_end"),
    "postgresql": ("audit_log_append_only", "audit_log_no_truncate", "audit_log_append_at_end"),
}


def drop_guards(connection: Connection) -> None:
    """What someone who owns the database can do: drop the append-only triggers."""
    on = " ON audit_log" if connection.dialect.name == "postgresql" else ""
    for trigger in GUARDS[connection.dialect.name]:
        connection.exec_driver_sql(f"DROP TRIGGER {trigger}{on}")


def _tamper(db: Database, statement: str) -> None:
    """What someone holding the database could do: drop the append-only triggers, then edit rows."""
    with db.engine.begin() as connection:
        drop_guards(connection)
        connection.execute(text(statement))


def test_chain_links_every_row_and_verifies(db: Database) -> None:
    ids = _record_some(db, 5)
    assert ids == [1, 2, 3, 4, 5]
    with read_scope(db) as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert rows[0].prev_hash == GENESIS_HASH
    assert all(later.prev_hash == earlier.hash for earlier, later in zip(rows, rows[1:], strict=False))
    result = verify_audit_chain(db)
    assert (result.ok, result.rows_checked, result.first_bad_id, result.problem) == (True, 5, None, None)


def test_empty_log_verifies(db: Database) -> None:
    assert verify_audit_chain(db).ok


@pytest.mark.parametrize("row_id", [1, 4, 7])
@pytest.mark.parametrize(
    "change",
    [
        """details = '{"query": "nothing to see", "n": 0, "ratio": 0.0}'""",
        "username = 'someone else'",
        "action = 'export'",
        "target = NULL",
        "at = '2020-01-01 00:00:00.000000'",
    ],
)
def test_tampering_with_any_row_is_found_at_that_row(db: Database, row_id: int, change: str) -> None:
    _record_some(db, 7)
    _tamper(db, f"UPDATE audit_log SET {change} WHERE id = {row_id}")
    result = verify_audit_chain(db)
    assert not result.ok
    assert result.first_bad_id == row_id
    assert result.rows_checked == row_id
    assert "changed after it was written" in (result.problem or "")


def test_a_replaced_hash_is_found_even_when_the_next_row_is_relinked(db: Database) -> None:
    _record_some(db, 4)
    _tamper(
        db,
        "UPDATE audit_log SET hash = CASE WHEN hash LIKE 'f%' THEN '0' ELSE 'f' END || substr(hash, 2) "
        "WHERE id = 2",
    )
    result = verify_audit_chain(db)
    assert result.first_bad_id == 2
    _tamper_again = "UPDATE audit_log SET prev_hash = (SELECT hash FROM audit_log WHERE id = 2) WHERE id = 3"
    with db.engine.begin() as connection:
        connection.execute(text(_tamper_again))
    assert verify_audit_chain(db).first_bad_id == 2  # row 2's own hash no longer covers its fields


def test_deleting_a_row_is_found(db: Database) -> None:
    _record_some(db, 5)
    _tamper(db, "DELETE FROM audit_log WHERE id = 3")
    result = verify_audit_chain(db)
    assert (result.ok, result.first_bad_id) == (False, 4)
    assert "rows 3..3 are missing" in (result.problem or "")


def test_database_refuses_updates_and_deletes(db: Database) -> None:
    _record_some(db, 2)
    statements = ["UPDATE audit_log SET username = 'x' WHERE id = 1", "DELETE FROM audit_log WHERE id = 2"]
    if db.engine.dialect.name == "postgresql":  # SQLite has no TRUNCATE (its DELETE FROM is refused above)
        statements.append("TRUNCATE audit_log")
    for statement in statements:
        with pytest.raises(IntegrityError, match="audit_log is append-only"), db.engine.begin() as connection:
            connection.execute(text(statement))
    assert verify_audit_chain(db).rows_checked == 2


def test_bad_events_are_refused_and_nothing_is_written(db: Database) -> None:
    with pytest.raises(InvalidValue, match="audit action 'deleted_everything' is not one of"):
        record_event(db, None, "deleted_everything", username="x")  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="audit details for export are not JSON"):
        record_event(db, None, "export", details={"path": Path("/tmp")}, username="x")
    with pytest.raises(InvalidValue, match="needs the signed-in user or the username"):
        record_event(db, None, "export")
    assert verify_audit_chain(db).rows_checked == 0


def _write_events(url: str, secrets: Path, worker: int, count: int, start: Barrier) -> None:
    db = open_database(url, secrets_dir=secrets)
    try:
        start.wait(timeout=60)  # all workers write at once, not one after another as they happen to start
        for i in range(count):
            record_event(
                db, None, "transcript_viewed", f"recording:{i}", {"worker": worker}, username=f"p{worker}"
            )
            time.sleep(0.002)  # yield the CPU: on few cores the writers must still interleave
    finally:
        db.engine.dispose()


def test_concurrent_writers_in_several_processes_keep_one_chain(db: Database) -> None:
    url = db.engine.url.render_as_string(hide_password=False)
    workers, per_worker = 4, 25
    context = multiprocessing.get_context("fork")  # separate processes, separate connections; fast to start
    start = context.Barrier(workers)
    processes = [
        context.Process(target=_write_events, args=(url, db.secrets.folder, w, per_worker, start))
        for w in range(workers)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
    assert [p.exitcode for p in processes] == [0] * workers

    result = verify_audit_chain(db)
    assert (result.ok, result.rows_checked) == (True, workers * per_worker)
    # One whole checkpoint line per commit, none torn or lost, though the processes wrote at once.
    checkpoints = (db.secrets.folder / CHECKPOINT_FILE).read_text().splitlines()
    assert sorted(json.loads(line)["rows"] for line in checkpoints) == list(
        range(1, workers * per_worker + 1)
    )
    with read_scope(db) as session:
        writers = session.scalars(select(AuditEntry.username)).all()
    assert sorted(set(writers)) == [f"p{w}" for w in range(workers)]
    # The processes really interleaved: the chain does not hold each worker's rows in one block.
    switches = sum(a != b for a, b in zip(writers, writers[1:], strict=False))
    assert switches > workers - 1


def test_only_compliance_and_admin_read_the_log(db: Database, people: dict[str, Principal]) -> None:
    record_event(db, people["agent"], "call_played", "recording:1")
    record_event(db, people["coach"], "transcript_viewed", "recording:1")
    for role in ("agent", "coach"):
        with pytest.raises(PermissionDenied, match="may not read audit log"):
            list_audit(db, people[role])
    newest_first = list_audit(db, people["compliance"])
    assert [r.action for r in newest_first[:2]] == ["transcript_viewed", "call_played"]
    only_agent = list_audit(db, people["admin"], username="AGENT@example.com")
    assert [(r.action, r.target, r.user_id) for r in only_agent] == [
        ("call_played", "recording:1", people["agent"].user_id)
    ]
    assert [r.username for r in list_audit(db, people["admin"], action="transcript_viewed")] == [
        "coach@example.com"
    ]


def test_export_writes_every_row_with_hashes_and_is_audited(
    db: Database, people: dict[str, Principal]
) -> None:
    _record_some(db, 3)
    with pytest.raises(PermissionDenied):
        export_audit_csv(db, people["coach"], io.StringIO())
    out = io.StringIO()

    count = export_audit_csv(db, people["compliance"], out)

    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert count == len(rows) == 4 + 3  # four accounts created by the fixture, three searches
    with read_scope(db) as session:
        stored = session.execute(select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id)).all()
    assert [(int(r["id"]), r["hash"]) for r in rows] == [tuple(s) for s in stored[:count]]
    assert rows[-1]["details"] == '{"n": 2, "query": "refund 2", "ratio": 0.2}'
    last = list_audit(db, people["compliance"], limit=1)[0]
    assert (last.action, last.target, last.username, last.details["rows"]) == (
        "export",
        "audit_log",
        "compliance@example.com",
        7,
    )
    export_audit_csv(db, None, io.StringIO())
    assert list_audit(db, people["compliance"], limit=1)[0].username == COMMAND_LINE
    assert verify_audit_chain(db).ok


def test_database_refuses_a_row_that_does_not_follow_the_last(db: Database) -> None:
    _record_some(db, 3)
    with read_scope(db) as session:
        rows = {row.id: row for row in session.scalars(select(AuditEntry))}
    insert = text(
        "INSERT INTO audit_log (id, at, user_id, username, action, target, details, prev_hash, hash, scheme)"
        " VALUES (:id, '2026-01-01 00:00:00', NULL, 'x', 'export', NULL, '{}', :prev, :hash, 'hmac-sha256')"
    )
    for row_id, prev_hash, new_hash in (
        (2, rows[1].hash, "f" * 64),  # in between, on an id already taken
        (4, rows[3].hash, rows[1].hash),  # a hash seen before
        (4, "e" * 64, "f" * 64),  # does not link to the last row
        (5, rows[3].hash, "f" * 64),  # leaves a gap
    ):
        with pytest.raises(IntegrityError, match="append-only"), db.engine.begin() as connection:
            connection.execute(insert, {"id": row_id, "prev": prev_hash, "hash": new_hash})
    assert (verify_audit_chain(db).ok, verify_audit_chain(db).rows_checked) == (True, 3)
