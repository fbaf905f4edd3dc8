"""Review-app sessions end on sign-out, password change (by anyone), deactivation and age; real SQLite."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from storage import users
from storage.access import Principal
from storage.app_sessions import SESSION_LIFETIME, current_principal, end_session
from storage.db import Database, read_scope, session_scope
from storage.models import AppSession, utc_now
from tests.unit.storage.conftest import PASSWORD


def _end_reasons(db: Database) -> list[str | None]:
    with read_scope(db) as session:
        return list(session.scalars(select(AppSession.end_reason).order_by(AppSession.id)))


def test_sign_in_opens_a_session_and_sign_out_ends_it(db: Database, people: dict[str, Principal]) -> None:
    first = users.authenticate(db, "coach@example.com", PASSWORD)
    second = users.authenticate(db, "coach@example.com", PASSWORD)  # another browser
    assert first.session_id is not None and second.session_id not in (None, first.session_id)
    assert users.principal_is_current(db, first) and current_principal(db, first.session_id) == first

    end_session(db, first)

    assert not users.principal_is_current(db, first) and current_principal(db, first.session_id) is None
    assert users.principal_is_current(db, second)
    assert _end_reasons(db) == ["signed_out", None]


def test_password_change_ends_every_session_of_the_account(
    db: Database, people: dict[str, Principal]
) -> None:
    coach = users.authenticate(db, "coach@example.com", PASSWORD)
    agent = users.authenticate(db, "agent@example.com", PASSWORD)

    users.set_password(db, "coach@example.com", "a brand new secret", actor=people["admin"])

    assert not users.principal_is_current(db, coach)
    assert users.principal_is_current(db, agent)
    assert users.principal_is_current(db, users.authenticate(db, "coach@example.com", "a brand new secret"))
    assert _end_reasons(db) == ["password_changed", None, None]


def test_deactivation_ends_sessions_for_good(db: Database, people: dict[str, Principal]) -> None:
    coach = users.authenticate(db, "coach@example.com", PASSWORD)
    users.set_active(db, "coach@example.com", False, actor=people["admin"])
    assert not users.principal_is_current(db, coach)
    users.set_active(db, "coach@example.com", True, actor=None)
    assert not users.principal_is_current(db, coach)  # reactivating does not revive the old session
    assert _end_reasons(db) == ["deactivated"]


def test_a_session_expires_and_a_principal_without_one_is_never_current(
    db: Database, people: dict[str, Principal]
) -> None:
    coach = users.authenticate(db, "coach@example.com", PASSWORD)
    with session_scope(db) as session:
        started = utc_now() - SESSION_LIFETIME - timedelta(seconds=1)
        session.execute(update(AppSession).values(started_at=started))
    assert not users.principal_is_current(db, coach)
    assert not users.principal_is_current(db, people["coach"])  # made without a sign-in
