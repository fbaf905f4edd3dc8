"""Alembic environment: the schema is ``storage.models.Base.metadata``.

Run programmatically by ``storage.db.open_database`` (which hands over its own connection), or by
developers through ``alembic -c storage/alembic.ini -x url=sqlite:///dev.db revision --autogenerate``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Literal

from alembic import context
from sqlalchemy import Connection

from storage.db import create_storage_engine
from storage.models import Base

NameKind = Literal[
    "schema", "table", "column", "index", "unique_constraint", "foreign_key_constraint", "check_constraint"
]


def include_name(name: str | None, type_: NameKind, _parent_names: object) -> bool:
    """Leave the full-text and trigram indexes to their own revisions: they have no model, so
    autogenerate must neither drop nor diff them. That is SQLite's FTS5 virtual tables and shadow
    tables (``utterances_fts``, ``utterances_fts_data``, ``customer_names_fts`` ...), PostgreSQL's
    ``tsvector`` columns and their GIN indexes (``utterances.text_tsv``, ``ix_utterances_text_tsv``,
    see migration 0013) and its trigram indexes (``ix_customers_display_name_trigrams``, 0026)."""
    if name is None:
        return True
    if type_ == "table":
        return not (name.endswith("_fts") or "_fts_" in name)
    if type_ in ("index", "column"):
        return not name.endswith(("_tsv", "_trigrams"))
    return True


def _configure(**kwargs: object) -> None:
    context.configure(
        target_metadata=Base.metadata,
        include_name=include_name,
        compare_type=True,
        **kwargs,  # type: ignore[arg-type]
    )


def _run_on(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    _configure(connection=connection, render_as_batch=sqlite)
    with _foreign_keys_off(connection) if sqlite else nullcontext():
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                _check_foreign_keys(connection)
        if sqlite:
            connection.commit()  # turning the keys back on takes effect only outside a transaction


@contextmanager
def _foreign_keys_off(connection: Connection) -> Iterator[None]:
    """SQLite alters a table by rebuilding it (batch mode: copy, drop the old, rename). Enforced
    foreign keys make dropping a table that other rows point at fail ("database table is locked"),
    so an upgrade of a database that holds calls would never pass; Alembic's advice is to turn them
    off around the migration. The pragma only takes effect outside a transaction, so it goes to the
    driver's connection before the migration's transaction begins and after it is committed."""
    if connection.in_transaction():
        connection.commit()  # e.g. a caller's inspection; the pragma would be ignored inside it
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.execute("PRAGMA foreign_keys = OFF")
    try:
        yield
    finally:
        driver.execute("PRAGMA foreign_keys = ON")


def _check_foreign_keys(connection: Connection) -> None:
    """With the keys off, nothing else checks that the migrated rows still point at rows that exist."""
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"the migration would leave rows pointing at nothing: {broken[:5]}")


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or context.config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise SystemExit("give the database with -x url=... (e.g. -x url=sqlite:///dev.db)")
    return url


def run() -> None:
    if context.is_offline_mode():
        # `alembic upgrade --sql` for DBAs who apply PostgreSQL schema changes by hand.
        _configure(url=_url(), literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run_on(connection)
        return
    engine = create_storage_engine(_url())
    try:
        with engine.connect() as connection:
            _run_on(connection)
            connection.commit()
    finally:
        engine.dispose()


run()
