"""The ``earshot`` command line run in-process, as the integration tests call it."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from earshot.cli import main


def earshot(
    data_dir: Path, *args: str, env: dict[str, str] | None = None, input: str | None = None
) -> Result:
    """``earshot --data-dir DATA_DIR ARGS...``; an unexpected exception fails the test with its traceback."""
    return CliRunner().invoke(
        main, ["--data-dir", str(data_dir), *args], env=env, input=input, catch_exceptions=False
    )
