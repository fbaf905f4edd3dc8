"""`earshot agent team` end to end on a real SQLite database in a tmp data folder."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.cli import earshot


def _teams(data_dir: Path) -> list[tuple[str, str | None]]:
    with sqlite3.connect(data_dir / "earshot.db") as connection:
        return connection.execute("SELECT name, team FROM agents ORDER BY name").fetchall()


def test_an_admin_puts_an_agent_in_a_team_and_takes_them_out(tmp_path: Path) -> None:
    added = earshot(
        tmp_path,
        *("user", "add", "alice", "--role", "agent", "--agent", "Alice", "--new-agent", "--password-stdin"),
        input="a long enough password\n",
    )
    assert added.exit_code == 0, added.output

    put = earshot(tmp_path, "agent", "team", "alice", "North")
    assert (put.exit_code, put.output) == (0, "agent Alice: team North\n")
    assert _teams(tmp_path) == [("Alice", "North")]

    cleared = earshot(tmp_path, "agent", "team", "Alice", "--clear")
    assert (cleared.exit_code, cleared.output) == (0, "agent Alice: in no team\n")
    assert _teams(tmp_path) == [("Alice", None)]

    for args in (("Alice",), ("Alice", "North", "--clear")):
        refused = earshot(tmp_path, "agent", "team", *args)
        assert refused.exit_code == 2 and "give either a TEAM or --clear" in refused.output
    unknown = earshot(tmp_path, "agent", "team", "Alcie", "North")
    assert unknown.exit_code == 1 and "there is no PBX agent 'Alcie'; did you mean 'Alice'?" in unknown.output
