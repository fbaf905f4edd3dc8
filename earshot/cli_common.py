"""What every ``earshot`` command shares: one-line user errors, opening the database, clock times."""

from __future__ import annotations

import functools

import click

from earshot.settings import Settings


class UserError(click.ClickException):
    """Shown as one line, ``error: ...``, with exit status 1; never a traceback."""

    def show(self, file=None) -> None:
        click.echo(f"error: {self.message}", err=True)


def user_errors(func):
    """Turn errors a user can cause (bad file, query, setting, reference, a refusal such as a legal
    hold's) into one clear line."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except (ValueError, LookupError, RuntimeError, PermissionError) as error:
            raise UserError(str(error)) from error

    return wrapper


def open_db(settings: Settings):
    """Imported on use: ``earshot --help`` and ``earshot transcribe`` need no database code."""
    from storage.db import open_database

    return open_database(
        settings.database_url,
        secrets_dir=settings.secrets_dir,
        busy_timeout=settings.database_busy_timeout_s,
    )


def clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes:02d}:{secs:02d}"
