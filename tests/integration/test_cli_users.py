"""`earshot user ...` and `earshot audit ...` end to end on a real SQLite database in a tmp data folder,
with argon2id at its production parameters."""

from __future__ import annotations

import csv
import io
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from earshot.cli import main
from storage import users
from storage.db import open_database
from storage.errors import SignInFailed
from tests.cli import earshot

PASSWORD = "first admin secret"


def rows(data_dir: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(data_dir / "earshot.db") as connection:
        return connection.execute(sql).fetchall()


def sign_in(data_dir: Path, username: str, password: str) -> str:
    db = open_database(f"sqlite:///{data_dir / 'earshot.db'}")
    try:
        return users.authenticate(db, username, password).role
    finally:
        db.engine.dispose()


def test_first_admin_from_stdin_then_sign_in(tmp_path: Path) -> None:
    result = earshot(
        tmp_path,
        "user",
        "add",
        "Root@Example.com",
        "--role",
        "admin",
        "--password-stdin",
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    assert result.output == "user root@example.com added as admin\n"
    [(stored,)] = rows(tmp_path, "SELECT password_hash FROM users")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$") and PASSWORD not in stored
    assert sign_in(tmp_path, "root@example.com", PASSWORD) == "admin"


def test_prompted_password_must_be_confirmed(tmp_path: Path) -> None:
    mismatch = earshot(
        tmp_path,
        "user",
        "add",
        "ann",
        "--role",
        "agent",
        "--agent",
        "201",
        "--new-agent",
        input="one long password\ntwo long password\n" * 3,
    )
    assert mismatch.exit_code != 0 and "do not match" in mismatch.output
    assert not (tmp_path / "earshot.db").exists()  # asked before anything was opened

    result = earshot(
        tmp_path,
        *("user", "add", "ann", "--role", "agent", "--agent", "201", "--new-agent"),
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert "Password" in result.output and PASSWORD not in result.output
    assert rows(tmp_path, "SELECT u.username, a.name FROM users u JOIN agents a ON a.id = u.agent_id") == [
        ("ann", "201")
    ]


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("user", "add", "bob", "--role", "coach", "--password-stdin"), "short\n", "at least 10 characters"),
        (("user", "add", "two words", "--role", "coach", "--no-password"), None, "without spaces"),
        (("user", "passwd", "ghost", "--password-stdin"), PASSWORD + "\n", "no user 'ghost'"),
        (("user", "role", "ghost", "coach"), None, "no user 'ghost'"),
    ],
)
def test_mistakes_give_one_line_and_change_nothing(
    tmp_path: Path, args: tuple[str, ...], stdin: str | None, message: str
) -> None:
    result = earshot(tmp_path, *args, input=stdin)
    assert result.exit_code == 1
    assert result.output.startswith("error: ") and message in result.output and result.output.count("\n") == 1
    assert rows(tmp_path, "SELECT count(*) FROM users") == [(0,)]


def test_agent_link_matches_case_and_refuses_unknown_names(tmp_path: Path) -> None:
    add = ("user", "add", "ann", "--role", "agent", "--no-password")
    assert earshot(tmp_path, *add, "--agent", "Alice", "--new-agent").exit_code == 0
    result = earshot(tmp_path, "user", "add", "bea", "--role", "agent", "--no-password", "--agent", "ALICE")
    assert result.output == "user bea added as agent (agent Alice)\n"
    typo = earshot(tmp_path, "user", "role", "bea", "agent", "--agent", "Alcie")
    assert typo.exit_code == 1
    assert typo.output.startswith("error: there is no PBX agent 'Alcie'; did you mean 'Alice'?")
    assert rows(tmp_path, "SELECT name FROM agents") == [("Alice",)]


def test_unknown_role_is_refused_by_the_command_line(tmp_path: Path) -> None:
    result = earshot(tmp_path, "user", "add", "bob", "--role", "boss", "--no-password")
    assert result.exit_code == 2 and "'boss' is not one of" in result.output


def test_role_passwd_disable_and_list(tmp_path: Path) -> None:
    assert (
        earshot(
            tmp_path, "user", "add", "carol", "--role", "agent", "--password-stdin", input=PASSWORD + "\n"
        ).exit_code
        == 0
    )
    assert (
        earshot(tmp_path, "user", "add", "sso@example.com", "--role", "compliance", "--no-password").exit_code
        == 0
    )

    result = earshot(tmp_path, "user", "role", "CAROL", "coach")
    assert result.output == "user carol is now coach\n"
    assert (
        earshot(
            tmp_path, "user", "passwd", "carol", "--password-stdin", input="a new long secret\n"
        ).exit_code
        == 0
    )
    assert sign_in(tmp_path, "carol", "a new long secret") == "coach"
    assert earshot(tmp_path, "user", "disable", "carol").output == "user carol disabled\n"
    with pytest.raises(SignInFailed, match="deactivated"):
        sign_in(tmp_path, "carol", "a new long secret")

    listing = earshot(tmp_path, "user", "list").output.splitlines()
    assert [line.split() for line in listing] == [
        ["USERNAME", "ROLE", "AGENT", "SIGN-IN", "STATE"],
        ["carol", "coach", "-", "password", "disabled"],
        ["sso@example.com", "compliance", "-", "-", "active"],
    ]
    changes = rows(
        tmp_path,
        "SELECT username, json_extract(details, '$.change') FROM audit_log WHERE action = 'user_changed'",
    )
    assert [c[1] for c in changes] == ["created", "created", "role", "password", "deactivated"]
    assert {c[0] for c in changes} == {"(command line)"}


def test_audit_verify_export_and_tampering(tmp_path: Path) -> None:
    earshot(tmp_path, "user", "add", "dave", "--role", "coach", "--no-password")
    earshot(tmp_path, "user", "role", "dave", "agent", "--agent", "Dave", "--new-agent")

    assert earshot(tmp_path, "audit", "verify").output == "audit log intact: 2 row(s)\n"
    out = tmp_path / "audit.csv"
    result = earshot(tmp_path, "audit", "export", "--out", str(out))
    assert result.exit_code == 0 and f"2 audit row(s) exported to {out}" in result.output
    exported = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["action"] for r in exported] == ["user_changed", "user_changed"]
    assert exported[1]["hash"] == rows(tmp_path, "SELECT hash FROM audit_log WHERE id = 2")[0][0]
    to_stdout = CliRunner().invoke(main, ["--data-dir", str(tmp_path), "audit", "export"])
    assert len(list(csv.DictReader(io.StringIO(to_stdout.stdout)))) == 3  # the first export is logged too

    with sqlite3.connect(tmp_path / "earshot.db") as connection:
        connection.execute("DROP TRIGGER audit_log_no_update")
        connection.execute(
            """UPDATE audit_log SET details = '{"change": "created", "role": "admin"}' WHERE id = 1"""
        )
    broken = earshot(tmp_path, "audit", "verify")
    assert broken.exit_code == 1
    assert broken.output == (
        "error: audit log broken: row 1 was changed after it was written (its keyed hash does not match)\n"
    )


def test_audit_verify_finds_a_cut_tail_and_checks_an_exported_copy(tmp_path: Path) -> None:
    for name in ("erin", "frank", "grace"):
        earshot(tmp_path, "user", "add", name, "--role", "coach", "--no-password")
    out = tmp_path / "audit.csv"
    earshot(tmp_path, "audit", "export", "--out", str(out))
    assert earshot(tmp_path, "audit", "verify", "--csv", str(out)).output == "audit log intact: 3 row(s)\n"

    with sqlite3.connect(tmp_path / "earshot.db") as connection:
        connection.execute("DROP TRIGGER audit_log_no_delete")
        connection.execute("DELETE FROM audit_log WHERE id >= 3")
    broken = earshot(tmp_path, "audit", "verify")
    assert broken.exit_code == 1
    assert (
        broken.output == "error: audit log broken: cut tail: rows 3..4 are missing (a checkpoint saw row 4)\n"
    )
    # The copy holds what the database lost, and still verifies with the key from the secrets folder.
    assert earshot(tmp_path, "audit", "verify", "--csv", str(out)).exit_code == 0
