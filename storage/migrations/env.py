"""Alembic environment: the schema is ``storage.models.Base.metadata``.

Run programmatically by ``storage.db.open_database`` (which hands over its own connection), or by
developers through ``alembic -c storage/alembic.ini -x url=sqlite:///dev.db revision --autogenerate``.
"""

from __future__ import annotations

from typing import Literal

from alembic import context
from sqlalchemy import Connection

from storage.db import create_storage_engine
from storage.models import Base

NameKind = Literal[
    "schema", "table", "column", "index", "unique_constraint", "foreign_key_constraint", "check_constraint"
]


def include_name(name: str | None, type_: NameKind, _parent_names: object) -> bool:
    """Leave the full-text index to its own revision: it has no model, so autogenerate must neither
    drop nor diff it. That is SQLite's FTS5 virtual table and shadow tables (``utterances_fts``,
    ``utterances_fts_data`` ...) and PostgreSQL's ``tsvector`` columns and their GIN indexes
    (``utterances.text_tsv``, ``ix_utterances_text_tsv``, see migration 0012)."""
    if name is None:
        return True
    if type_ == "table":
        return not (name.endswith("_fts") or "_fts_" in name)
    if type_ in ("index", "column"):
        return not name.endswith("_tsv")
    return True


def _configure(**kwargs: object) -> None:
    context.configure(
        target_metadata=Base.metadata,
        include_name=include_name,
        compare_type=True,
        **kwargs,  # type: ignore[arg-type]
    )


def _run_on(connection: Connection) -> None:
    _configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


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
