"""Open the database: one engine per process, SQLite tuned for several worker processes, schema at head.

SQLite is the embedded default; PostgreSQL (``postgresql+psycopg://``) is the other supported backend,
tested against a real server.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, func, make_url, select, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from storage.errors import StorageError, TransientStorageError
from storage.private_files import make_private_file, make_private_folder
from storage.secrets import SecretStore

__all__ = [
    "SECRETS_INFO",
    "secrets_of",
    "Database",
    "StorageError",
    "TransientStorageError",
    "alembic_config",
    "create_storage_engine",
    "open_database",
    "read_scope",
    "session_scope",
    "take_turns",
]

# Execution option read by the SQLite "begin" listener: write transactions take the write lock up
# front, so a concurrent writer waits on busy_timeout instead of failing with SQLITE_BUSY_SNAPSHOT
# when its read snapshot went stale before its first write.
_BEGIN_IMMEDIATE = "earshot_begin_immediate"


# The key under which ``Session.info`` holds the database's ``SecretStore``: code that has only a
# session (``storage.audit.append_event``) reaches the audit key through it.
SECRETS_INFO = "earshot_secrets"


@dataclass(frozen=True)
class Database:
    engine: Engine
    sessionmaker: sessionmaker[Session]
    secrets: SecretStore  # keys kept outside the database: whoever writes the file must not hold them

    @property
    def label(self) -> str:
        """What error messages call this database: the SQLite file, or the URL without password."""
        return describe_url(self.engine.url)


def describe_url(url: URL) -> str:
    path = sqlite_path(url)
    return str(path) if path is not None else url.render_as_string(hide_password=True)


def sqlite_path(url: URL) -> Path | None:
    """The file behind a SQLite URL (plain or ``file:...?mode=ro&uri=true``); None if not a file."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    database = url.database
    if url.query.get("uri") == "true":
        database = database.removeprefix("file:").split("?", 1)[0]
        if database in ("", ":memory:"):
            return None
    return Path(database)


def create_storage_engine(url: str | URL, *, busy_timeout: float = 10.0) -> Engine:
    """An engine without migrations (Alembic's env.py uses it); applications call ``open_database``."""
    url = make_url(url)
    if url.get_backend_name() == "postgresql":
        # psycopg prepares a statement after its fifth run, and PostgreSQL then may plan it once for
        # any value: a search's tsquery is then unknown to the planner, which reads every row instead
        # of the GIN index (a 2 ms search took 30 ms). Planning each run costs well under a millisecond.
        engine = create_engine(url, connect_args={"prepare_threshold": None})
    else:
        engine = create_engine(url)
    if url.get_backend_name() == "sqlite":
        _tune_sqlite(engine, busy_timeout)
    return engine


def _tune_sqlite(engine: Engine, busy_timeout: float) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        # Let SQLAlchemy emit BEGIN itself (below): pysqlite's implicit BEGIN skips SELECTs, which breaks
        # transactional DDL in migrations and read-then-write isolation.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            # WAL: readers (the review app) never block the writer (a worker) and vice versa.
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA foreign_keys = ON")
            # NORMAL is durable in WAL mode except for the last commits on power loss; much faster.
            cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get(_BEGIN_IMMEDIATE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def alembic_config(connection: Connection) -> Config:
    """Alembic settings without an alembic.ini: the migrations ship inside the ``storage`` package."""
    config = Config()
    config.set_main_option("script_location", "storage:migrations")
    config.attributes["connection"] = connection
    return config


def open_database(url: str, *, busy_timeout: float = 10.0, secrets_dir: Path | None = None) -> Database:
    """Connect, bring the schema to the newest revision and check that the database accepts writes.

    Checking writes here turns a read-only or locked database into one clear error at start-up
    instead of a failure in the middle of the first ingest or job. ``secrets_dir``: where keys live
    (``Settings.secrets_dir``); a SQLite file's default is the ``secrets`` folder beside it, which is
    ``<data_dir>/secrets`` in the default layout. Any other database must be told.
    """
    parsed = make_url(url)
    path = sqlite_path(parsed)
    if secrets_dir is None:
        if path is None:
            raise StorageError(
                f"database {describe_url(parsed)} is not a file: give the folder for its keys (secrets_dir)"
            )
        secrets_dir = path.parent / "secrets"
    secrets = SecretStore(secrets_dir)
    if path is not None and parsed.query.get("mode") != "ro":
        _prepare_private_file(path)
    engine = create_storage_engine(parsed, busy_timeout=busy_timeout)
    db = Database(
        engine=engine,
        sessionmaker=sessionmaker(engine, expire_on_commit=False, info={SECRETS_INFO: secrets}),
        secrets=secrets,
    )
    try:
        with _translate_errors(db), engine.connect() as connection:
            command.upgrade(alembic_config(connection), "head")
            connection.commit()
        with session_scope(db) as session:
            # BEGIN IMMEDIATE on SQLite already needs the write lock; elsewhere a no-op write probes it.
            session.execute(text("UPDATE alembic_version SET version_num = version_num"))
    except BaseException:
        engine.dispose()
        raise
    return db


def _prepare_private_file(path: Path) -> None:
    """The database's folder and file, made before SQLite makes them: readable by their owner only."""
    try:
        make_private_folder(path.parent)
    except OSError as error:
        raise StorageError(f"cannot create the folder for database {path}: {error.strerror}") from error
    try:
        make_private_file(path)
        for companion in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            if companion.exists():  # left by an earlier version, with the database's old mode
                make_private_file(companion)
    except OSError as error:
        raise StorageError(f"cannot make database {path} private to its owner: {error.strerror}") from error


def secrets_of(session: Session) -> SecretStore:
    """The keys of the database a session of ``open_database`` works on."""
    secrets = session.info.get(SECRETS_INFO)
    if not isinstance(secrets, SecretStore):
        raise StorageError("this needs a session of storage.db.open_database (it holds the keys)")
    return secrets


@contextmanager
def session_scope(db: Database) -> Iterator[Session]:
    """A write transaction: commit when the block succeeds, roll back when it raises."""
    with _translate_errors(db), db.sessionmaker() as session:
        session.connection(execution_options={_BEGIN_IMMEDIATE: True})
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def take_turns(session: Session, name: str) -> None:
    """Until the session's transaction ends, other writers that take turns on ``name`` wait here.

    For writes that read what the last writer wrote and must follow it (the audit chain). On SQLite
    every write transaction of ``session_scope`` already holds the one write lock. PostgreSQL runs
    writers side by side, so this takes a transaction-level advisory lock; the statements after it
    see what the writer before committed (READ COMMITTED reads a fresh snapshot per statement).
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(func.hashtext(name))))


@contextmanager
def read_scope(db: Database) -> Iterator[Session]:
    """A read-only unit of work: it is never committed, so a reader cannot write by accident."""
    with _translate_errors(db), db.sessionmaker() as session:
        yield session


@contextmanager
def _translate_errors(db: Database) -> Iterator[None]:
    """Turn the database's own lock/space/permission errors into one message that names the database;
    the faults that pass (lock, full disk) as ``TransientStorageError``, so callers may try again."""
    try:
        yield
    except OperationalError as error:
        reason = str(error.orig).lower()
        if "locked" in reason or "busy" in reason:
            raise TransientStorageError(
                f"database {db.label} is locked by another process (gave up after waiting); "
                "try again when the other earshot command or worker has finished"
            ) from error
        if "disk is full" in reason or "no space left" in reason:
            raise TransientStorageError(
                f"database {db.label} cannot grow: its disk is full; free some space"
            ) from error
        if "disk i/o error" in reason:
            raise TransientStorageError(f"database {db.label}: the disk failed a read or write") from error
        if "readonly" in reason or "read-only" in reason or "read only" in reason:
            message = f"database {db.label} is read-only: earshot needs to write to it and to its folder"
        else:
            message = f"cannot use database {db.label}: {error.orig}"
        raise StorageError(message) from error
