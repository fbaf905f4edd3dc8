"""The database backends every storage, search and queue test runs on: a real SQLite file, and a
real PostgreSQL server that ``tests/postgres_server.py`` starts on 127.0.0.1 for the session.

A test (or fixture) asks for ``database_url`` and runs once per backend; ``open_test_database``
opens it with its keys in the test's own folder. Where PostgreSQL cannot be started the PostgreSQL
runs are skipped with the reason, except under ``EARSHOT_REQUIRE_POSTGRES=1`` (``.ci/run``), where
that is a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.db import Database, open_database
from tests.postgres_server import REQUIRE_ENV, PostgresServer, unavailable_reason
from tests.s3_server import CREDENTIALS, S3Server, running_s3_server

BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    reason = unavailable_reason()
    if reason is not None:
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{REQUIRE_ENV}=1 but {reason}")
        pytest.skip(reason)
    server = PostgresServer()
    try:
        secrets = tmp_path_factory.mktemp("template-secrets")
        server.make_template(lambda url: open_database(url, secrets_dir=secrets).engine.dispose())
        yield server
    finally:
        server.stop()


def new_database_url(
    request: pytest.FixtureRequest, backend: str, folder: Path, *, empty: bool = False
) -> Iterator[str]:
    """A fresh database on ``backend``: a file under ``folder``, or a new database on the session's
    server (dropped afterwards). On PostgreSQL it is already at head, unless ``empty``."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'data' / 'earshot.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    url = server.new_database(empty=empty)
    try:
        yield url
    finally:
        server.drop_database(url)


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from new_database_url(request, request.param, tmp_path)


@pytest.fixture(params=BACKENDS)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all, not even the migrations' (for the migrations' own tests)."""
    yield from new_database_url(request, request.param, tmp_path, empty=True)


@pytest.fixture(params=BACKENDS, scope="module")
def module_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    yield from new_database_url(request, request.param, tmp_path_factory.mktemp("db"))


def open_test_database(url: str, folder: Path, **options: object) -> Database:
    """``open_database`` with the keys in ``folder/data/secrets`` (a SQLite file's own default)."""
    return open_database(url, secrets_dir=folder / "data" / "secrets", **options)  # type: ignore[arg-type]


@pytest.fixture
def db(database_url: str, tmp_path: Path) -> Iterator[Database]:
    """A fresh database at head, once on SQLite and once on PostgreSQL."""
    database = open_test_database(database_url, tmp_path)
    yield database
    database.engine.dispose()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in CREDENTIALS.items():
            patch.setenv(name, value)
        with running_s3_server() as server:
            yield server
