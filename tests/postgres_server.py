"""A throwaway PostgreSQL server for the tests: ``initdb`` into a temporary folder, ``postgres`` on
127.0.0.1 with a free port, stopped (children included) and deleted at the end.

No system cluster is needed, only Debian's ``postgresql`` binaries (``setup.sh --test-deps``
installs them). PostgreSQL refuses to run as root, so as root the server runs as the ``postgres``
system user the Debian package creates (or ``nobody``). Each test gets its own database, copied
from a template that the migrations brought to head once (``CREATE DATABASE ... TEMPLATE`` takes
milliseconds; migrating takes seconds).
"""

from __future__ import annotations

import ctypes
import glob
import itertools
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

USER = "earshot"
TEMPLATE = "earshot_template"
# CI sets this so that a missing server is a failure there, never a quiet skip.
REQUIRE_ENV = "EARSHOT_REQUIRE_POSTGRES"
_FOLDER_PREFIX = "earshot-pg-"
# A server's folder untouched this long with no live postmaster was left by a killed run.
STALE_AFTER_S = 3600.0


def find_bin_dir() -> Path | None:
    """The folder with ``initdb`` and ``postgres``: on PATH, or Debian's versioned folder."""
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version_key)
    return Path(candidates[-1]).parent if candidates else None


def _version_key(path: str) -> tuple[int, ...]:
    version = Path(path).parent.parent.name
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def unavailable_reason() -> str | None:
    """Why no server can be started here, or None when one can."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install -r requirements.lock)"
    if find_bin_dir() is None:
        return "PostgreSQL's initdb is not installed (./setup.sh --test-deps installs Debian's postgresql)"
    return None


def _run_as() -> pwd.struct_passwd | None:
    """The unprivileged user to run the server as when we are root; None to run as ourselves."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("running as root and neither a 'postgres' nor a 'nobody' user exists")


# prctl(2): the signal a process gets when the thread that started it ends.
_PR_SET_PDEATHSIG = 1


def _stopped_with(parent: int) -> Callable[[], None] | None:
    """Linux: what makes the server stop (SIGINT, a fast shutdown) when the process that started it
    ends, however it ends: a test run or bench killed with SIGTERM or SIGKILL runs no ``stop()``, and
    the server, in a session of its own, would outlive it. Run in the child after it took the
    server's user (a change of user clears the setting)."""
    if not sys.platform.startswith("linux"):
        return None

    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before the fork, not in the child

    def stop_with_parent() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGINT)
        if os.getppid() != parent:  # it ended before the setting was made
            os._exit(1)

    return stop_with_parent


def remove_stale_folders(parent: Path, older_than: float = STALE_AFTER_S) -> list[Path]:
    """Delete the folders of servers that a killed run left behind: their server stopped with it
    (the parent-death signal), but nothing was left to delete the folder (gigabytes after a bench).
    Only a folder untouched for ``older_than`` seconds with no live postmaster is one: a server being
    set up right now, or running for another test run, is left alone. Returns what was deleted."""
    deleted = []
    for folder in parent.glob(f"{_FOLDER_PREFIX}*"):
        try:
            if time.time() - folder.stat().st_mtime < older_than or _postmaster_alive(folder / "data"):
                continue
        except OSError:
            continue  # gone meanwhile, or not ours to read
        shutil.rmtree(folder, ignore_errors=True)
        deleted.append(folder)
    return deleted


def _postmaster_alive(data: Path) -> bool:
    try:
        pid = int((data / "postmaster.pid").read_text().split("\n", 1)[0])
    except FileNotFoundError:
        return False  # a clean shutdown removes it
    except ValueError:
        return True  # being written: alive or about to be
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # a live process of another user (the server runs as postgres)
    return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PostgresServer:
    """One running server; ``url(name)`` is the SQLAlchemy URL of one of its databases."""

    def __init__(self) -> None:
        bin_dir = find_bin_dir()
        if bin_dir is None:
            raise RuntimeError(unavailable_reason() or "no PostgreSQL")
        self._bin = bin_dir
        self._owner = _run_as()
        remove_stale_folders(Path(tempfile.gettempdir()))
        self.folder = Path(tempfile.mkdtemp(prefix=_FOLDER_PREFIX))
        self._data = self.folder / "data"
        self._process: subprocess.Popen[bytes] | None = None
        self._names = itertools.count()
        self.port = 0
        try:
            self._init()
            self._start()
        except BaseException:
            self.stop()
            raise

    @property
    def _uid(self) -> int | None:
        return self._owner.pw_uid if self._owner is not None else None

    @property
    def _gid(self) -> int | None:
        return self._owner.pw_gid if self._owner is not None else None

    def _init(self) -> None:
        if self._owner is not None:
            os.chown(self.folder, self._owner.pw_uid, self._owner.pw_gid)
        subprocess.run(
            [
                str(self._bin / "initdb"),
                "-D",
                str(self._data),
                "-U",
                USER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
            cwd=self.folder,
            user=self._uid,
            group=self._gid,
        )

    def _start(self) -> None:
        for _attempt in range(5):  # another process may take the free port before the server binds it
            self.port = _free_port()
            log = open(self.folder / "server.log", "ab")  # noqa: SIM115 (the server writes it until stop)
            self._process = subprocess.Popen(
                [
                    str(self._bin / "postgres"),
                    "-D",
                    str(self._data),
                    "-p",
                    str(self.port),
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    "unix_socket_directories=",
                    # Test data is thrown away: durability on power loss buys nothing here.
                    "-c",
                    "fsync=off",
                    "-c",
                    "synchronous_commit=off",
                    "-c",
                    "full_page_writes=off",
                    "-c",
                    "max_connections=200",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.folder,
                start_new_session=True,  # its own process group: stop() can reach every child
                user=self._uid,
                group=self._gid,
                preexec_fn=_stopped_with(os.getpid()),  # noqa: PLW1509 (it calls prctl and getppid only)
            )
            log.close()
            if self._wait_ready():
                return
            self._kill()
        raise RuntimeError(f"PostgreSQL did not start:\n{self.log_tail()}")

    def _wait_ready(self, timeout: float = 30.0) -> bool:
        import psycopg

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                return False
            try:
                psycopg.connect(self.dsn("postgres"), connect_timeout=2).close()
                return True
            except psycopg.OperationalError:
                time.sleep(0.1)
        return False

    def log_tail(self, lines: int = 30) -> str:
        path = self.folder / "server.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def dsn(self, database: str) -> str:
        return f"host=127.0.0.1 port={self.port} user={USER} dbname={database}"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/{database}"

    def execute(self, statement: str, database: str = "postgres") -> None:
        """One statement outside a transaction (CREATE/DROP DATABASE need that)."""
        import psycopg

        with psycopg.connect(self.dsn(database), autocommit=True) as connection:
            connection.execute(statement)  # type: ignore[arg-type]

    def make_template(self, migrate: Callable[[str], None]) -> None:
        """The template every test database is copied from: ``migrate(url)`` brings it to head."""
        self.execute(f"CREATE DATABASE {TEMPLATE}")
        migrate(self.url(TEMPLATE))

    def new_database(self, *, empty: bool = False) -> str:
        """A fresh database copied from the migrated template (or an empty one); its URL."""
        name = f"test_{next(self._names)}"
        self.execute(f"CREATE DATABASE {name} TEMPLATE {'template0' if empty else TEMPLATE}")
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        self.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def _kill(self) -> None:
        if self._process is None:
            return
        try:
            # SIGINT is PostgreSQL's fast shutdown: it ends its children and exits.
            os.killpg(self._process.pid, signal.SIGINT)
            self._process.wait(timeout=20)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait()
        try:  # anything of its group that outlived the postmaster
            os.killpg(self._process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self._process = None

    def stop(self) -> None:
        self._kill()
        shutil.rmtree(self.folder, ignore_errors=True)
