"""Failed sign-ins are throttled per typed username and per client address before the password hash
runs; real SQLite files, real argon2id (counted, never faked)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from storage import users
from storage.access import Principal
from storage.db import Database, read_scope, session_scope
from storage.errors import SignInFailed
from storage.models import AuditEntry, SignInFailure
from storage.sign_in_throttle import ACCOUNT_LIMIT, CLIENT_LIMIT, WINDOW
from tests.unit.storage.conftest import PASSWORD

OFFICE = "203.0.113.7"


class CountingHasher(PasswordHasher):
    """argon2id at its smallest cost that counts how often a password is verified."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=1024, parallelism=1)
        self.verified = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:  # noqa: A002 (argon2's name)
        self.verified += 1
        return super().verify(hash, password)


@pytest.fixture
def hasher(people: dict[str, Principal], monkeypatch: pytest.MonkeyPatch) -> CountingHasher:
    counting = CountingHasher()
    monkeypatch.setattr(users, "_HASHER", counting)
    return counting


def _fail(db: Database, username: str, times: int, client: str | None = OFFICE) -> None:
    for _ in range(times):
        with pytest.raises(SignInFailed, match="^unknown user or wrong password$"):
            users.authenticate(db, username, "a wrong password", client=client)


def _age_failures(db: Database, by: timedelta) -> None:
    with session_scope(db) as session:
        for failure in session.scalars(select(SignInFailure)):
            failure.at = failure.at - by


def _last_audit(db: Database) -> Any:
    with read_scope(db) as session:
        return session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).one()


def test_account_locks_after_failures_and_the_right_password_is_refused_without_hashing(
    db: Database, people: dict[str, Principal], hasher: CountingHasher
) -> None:
    _fail(db, "coach@example.com", ACCOUNT_LIMIT, client=None)
    assert hasher.verified == ACCOUNT_LIMIT

    with pytest.raises(SignInFailed, match="^too many failed sign-ins; try again in 15 minutes$"):
        users.authenticate(db, "coach@example.com", PASSWORD)
    assert hasher.verified == ACCOUNT_LIMIT  # refused before the 64 MiB hash
    last = _last_audit(db)
    assert (last.action, last.target, last.details) == (
        "sign_in_failed",
        f"user:{people['coach'].user_id}",
        {"reason": "throttled"},
    )
    # Other accounts are untouched.
    assert users.authenticate(db, "agent@example.com", PASSWORD).role == "agent"


def test_unknown_names_are_throttled_alike_so_the_refusal_tells_nothing(
    db: Database, hasher: CountingHasher
) -> None:
    _fail(db, "nobody@example.com", ACCOUNT_LIMIT, client=None)
    with pytest.raises(SignInFailed, match="^too many failed sign-ins; try again in 15 minutes$"):
        users.authenticate(db, "Nobody@Example.com", PASSWORD)
    assert hasher.verified == ACCOUNT_LIMIT


def test_client_address_is_limited_across_accounts(db: Database, hasher: CountingHasher) -> None:
    names = [f"guess{i}@example.com" for i in range(CLIENT_LIMIT)]
    for name in names:
        _fail(db, name, 1)
    with pytest.raises(SignInFailed, match="^too many failed sign-ins from this address; try again in"):
        users.authenticate(db, "admin@example.com", PASSWORD, client=OFFICE)
    assert hasher.verified == CLIENT_LIMIT
    # The same account from another address still signs in.
    assert users.authenticate(db, "admin@example.com", PASSWORD, client="198.51.100.2").role == "admin"


def test_the_lock_ends_when_the_failures_leave_the_window(db: Database, hasher: CountingHasher) -> None:
    _fail(db, "coach@example.com", ACCOUNT_LIMIT)
    with pytest.raises(SignInFailed, match="too many"):
        users.authenticate(db, "coach@example.com", PASSWORD, client=OFFICE)
    _age_failures(db, WINDOW + timedelta(seconds=1))  # as if the window had passed
    assert users.authenticate(db, "coach@example.com", PASSWORD, client=OFFICE).role == "coach"


def test_success_clears_the_account_count_and_old_failures_are_pruned(
    db: Database, hasher: CountingHasher
) -> None:
    _fail(db, "coach@example.com", ACCOUNT_LIMIT - 1)
    users.authenticate(db, "coach@example.com", PASSWORD, client=OFFICE)
    _fail(db, "coach@example.com", ACCOUNT_LIMIT - 1)  # would lock if the earlier ones still counted
    assert users.authenticate(db, "coach@example.com", PASSWORD, client=OFFICE).role == "coach"

    _fail(db, "other@example.com", 2)
    _age_failures(db, WINDOW)
    _fail(db, "third@example.com", 1)
    with read_scope(db) as session:
        (kept,) = session.scalars(select(SignInFailure.username)).all()
    # Only the third name's failure is left, kept as a keyed digest: a typed name may be a password.
    assert len(kept) == 64 and "third" not in kept
