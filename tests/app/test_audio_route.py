"""The audio route of a real ``earshot app`` server (streamlit run review_app/server.py), over real HTTP:
links are minted here, in another process, with the key the server keeps in the data folder's
secrets, so they work across processes and restarts; the route checks the sign-in behind a link on
every request and audits each link once."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from review_app.audio_links import audio_url
from review_app.config import app_settings
from storage import users
from storage.access import Principal
from storage.app_sessions import end_session
from storage.db import Database, read_scope
from storage.models import AuditEntry
from storage.secrets import SecretStore
from tests.app.app_data import PASSWORD, AppData, open_data
from tests.app.browser import running_app


@pytest.fixture(scope="module")
def app_url(app_data: AppData, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_app(app_data.env(), tmp_path_factory.mktemp("server") / "streamlit.log") as url:
        yield url


@pytest.fixture
def db(app_data: AppData) -> Iterator[Database]:
    database, _, _ = open_data(app_data.data_dir)
    yield database
    database.engine.dispose()


def _key(app_data: AppData) -> bytes:
    return SecretStore(app_data.data_dir / "secrets").key("app")


def _get(url: str, first_byte: int = 0) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Range": f"bytes={first_byte}-{first_byte + 999}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
            return response.status, response.headers["Cache-Control"]
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _fetches_audited(db: Database, who: Principal) -> int:
    with read_scope(db) as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == "audio_fetched", AuditEntry.user_id == who.user_id)
            )
            or 0
        )


def _link(app_url: str, app_data: AppData, who: Principal, now: float | None = None) -> str:
    lifetime = app_settings().audio_link_seconds  # the server's: the same data folder and variables
    return app_url + audio_url(_key(app_data), app_data.recording_id, who, lifetime, now)


def test_each_link_is_audited_once_and_sign_out_ends_it(
    app_url: str, app_data: AppData, db: Database
) -> None:
    coach = users.authenticate(db, "coach@example.com", PASSWORD)
    audited = _fetches_audited(db, coach)
    link = _link(app_url, app_data, coach)

    assert _get(link) == (206, "no-store")
    assert _get(link, 5000) == (206, "no-store")  # a seek: served, not logged again
    assert _fetches_audited(db, coach) == audited + 1
    with read_scope(db) as session:
        row = session.scalars(select(AuditEntry).where(AuditEntry.action == "audio_fetched")).first()
    assert row is not None and row.target == f"recording:{app_data.recording_id}"

    renewed = _link(app_url, app_data, coach, now=time.time() + 1)  # the page's next link
    assert _get(renewed)[0] == 206
    assert _fetches_audited(db, coach) == audited + 2

    end_session(db, coach)
    assert _get(link) == (403, "the sign-in this audio link was issued in has ended; sign in again")
    assert _get(renewed)[0] == 403


@pytest.mark.parametrize("change", ["deactivated", "password"])
def test_deactivation_and_password_change_end_links(
    app_url: str, app_data: AppData, db: Database, change: str
) -> None:
    agent = users.authenticate(db, "agent@example.com", PASSWORD)
    link = _link(app_url, app_data, agent)
    assert _get(link)[0] == 206
    try:
        if change == "deactivated":
            users.set_active(db, "agent@example.com", False, actor=None)
        else:
            users.set_password(db, "agent@example.com", "another long password", actor=None)
        assert _get(link, 1000)[0] == 403
    finally:
        users.set_active(db, "agent@example.com", True, actor=None)
        users.set_password(db, "agent@example.com", PASSWORD, actor=None)


def test_expired_and_altered_links_are_refused(app_url: str, app_data: AppData, db: Database) -> None:
    coach = users.authenticate(db, "coach@example.com", PASSWORD)
    audited = _fetches_audited(db, coach)
    expired = _link(app_url, app_data, coach, now=time.time() - app_settings().audio_link_seconds - 5)
    assert _get(expired) == (403, "this audio link is not valid (expired or altered); reopen the call")
    other = users.authenticate(db, "admin@example.com", PASSWORD)
    recording, _, expires, signature = _link(app_url, app_data, coach).rsplit("/", 1)[1].split(".")
    moved = f"{app_url}/earshot/audio/{recording}.{other.session_id}.{expires}.{signature}"
    assert _get(moved)[0] == 403  # a link cannot be moved to another sign-in
    assert _fetches_audited(db, coach) == audited


def test_links_survive_a_restart_with_the_key_kept_in_the_secrets_folder(
    app_data: AppData, db: Database, tmp_path: Path
) -> None:
    coach = users.authenticate(db, "coach@example.com", PASSWORD)
    with running_app(app_data.env(), tmp_path / "first.log") as first:
        path = audio_url(_key(app_data), app_data.recording_id, coach, app_settings().audio_link_seconds)
        assert _get(first + path)[0] == 206
    with running_app(app_data.env(), tmp_path / "second.log") as second:
        assert _get(second + path)[0] == 206
    key_file = app_data.data_dir / "secrets" / "app.key"
    assert key_file.stat().st_mode & 0o777 == 0o600


def test_the_metrics_route_gives_the_queue_to_a_scraper_with_the_token_only(
    app_url: str, app_data: AppData
) -> None:
    url = f"{app_url}/earshot/metrics"
    token = SecretStore(app_data.data_dir / "secrets").key("metrics").hex()
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {token}"}):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30)
        assert refused.value.code == 401
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        body = response.read().decode()
    lines = dict(line.rsplit(" ", 1) for line in body.splitlines() if line and not line.startswith("#"))
    assert {'earshot_queue_jobs{status="queued"}', 'earshot_queue_jobs{status="running"}'} <= set(lines)
    assert "earshot_queue_oldest_wait_seconds" in lines and "earshot_queue_done_last_hour" in lines
    assert all(float(value) >= 0 for value in lines.values())
