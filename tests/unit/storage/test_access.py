"""Roles and permissions, accounts, password and OIDC sign-in, on real SQLite files with real argon2id."""

from __future__ import annotations

import dataclasses
import itertools

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select, text

from storage import users
from storage.access import ROLE_PERMISSIONS, USER_ROLES, Permission, Principal, allows, require
from storage.audit import COMMAND_LINE, UNKNOWN_USER, verify_audit_chain
from storage.db import Database, read_scope
from storage.errors import InvalidValue, NotFound, PermissionDenied, SignInFailed
from storage.models import AuditEntry, User
from tests.unit.storage.conftest import PASSWORD, dump_database

# The table, written out once more by hand so a change to ROLE_PERMISSIONS must be deliberate.
EXPECTED: dict[str, set[str]] = {
    "agent": {"lookup_customers", "replay_calls", "view_own_evaluations", "label_contacts"},
    "coach": {"view_all_calls", "score_calls", "comment_calls", "view_agent_overviews"},
    "compliance": {
        "search_all",
        "export",
        "read_audit_log",
        "view_compliance",
        "manage_compliance",
        "read_unredacted",
        "merge_customers",
    },
    "admin": {"manage_users", "manage_settings", "manage_voiceprints"},
}
# Deleting and holding data is compliance's decision alone: admins only see it.
COMPLIANCE_ONLY = {"manage_compliance"}


def _granted(role: str) -> set[str]:
    # Each role has its own line of the table plus every line above it.
    granted = set().union(*(EXPECTED[r] for r in USER_ROLES[: USER_ROLES.index(role) + 1]))  # type: ignore[arg-type]
    return granted - COMPLIANCE_ONLY if role == "admin" else granted


@pytest.mark.parametrize(("role", "permission"), list(itertools.product(USER_ROLES, Permission)))
def test_role_matrix(role: str, permission: Permission) -> None:
    principal = Principal(user_id=1, username="someone", role=role, agent_id=None)  # type: ignore[arg-type]
    if permission.value in _granted(role):
        assert allows(principal, permission)
        require(principal, permission)
    else:
        assert not allows(principal, permission)
        with pytest.raises(
            PermissionDenied, match=f"someone \\({role}\\) may not {permission.value.replace('_', ' ')}"
        ):
            require(principal, permission)


def test_every_permission_is_in_the_table() -> None:
    assert set().union(*EXPECTED.values()) == {p.value for p in Permission}
    assert set(ROLE_PERMISSIONS) == set(USER_ROLES)


def test_permission_denied_is_a_permission_error() -> None:
    principal = Principal(1, "a", "agent", None)
    with pytest.raises(PermissionError, match="needs the role compliance or admin"):
        require(principal, Permission.EXPORT)


def test_create_and_sign_in(db: Database, cheap_hashing: PasswordHasher) -> None:
    created = users.create_user(
        db,
        "  Ann@Example.COM ",
        PASSWORD,
        "agent",
        "Ann",
        agent_name="ext-201",
        actor=None,
        create_agent=True,
    )
    assert created.username == "ann@example.com"
    assert created.agent == "ext-201" and created.agent_id is not None

    principal = users.authenticate(db, "ANN@example.com", PASSWORD)

    assert principal == Principal(created.id, "ann@example.com", "agent", created.agent_id, session_id=1)
    with read_scope(db) as session:
        stored = session.scalars(select(User.password_hash)).one()
        events = session.execute(select(AuditEntry.action, AuditEntry.username, AuditEntry.details)).all()
    assert stored is not None and stored.startswith("$argon2id$") and PASSWORD not in stored
    assert [(e.action, e.username) for e in events] == [
        ("user_changed", COMMAND_LINE),
        ("sign_in", "ann@example.com"),
    ]
    assert events[1].details == {"method": "password"}


def test_password_is_never_stored_or_audited_in_plain(db: Database, people: dict[str, Principal]) -> None:
    users.set_password(db, "coach@example.com", "another long secret", actor=people["admin"])
    with pytest.raises(SignInFailed):
        users.authenticate(db, "coach@example.com", "wrong but long enough")
    dump = dump_database(db)
    assert PASSWORD not in dump and "another long secret" not in dump and "wrong but long" not in dump
    assert users.authenticate(db, "coach@example.com", "another long secret").role == "coach"


@pytest.mark.parametrize(
    ("username", "password", "reason", "logged_as"),
    [
        ("nobody@example.com", PASSWORD, "unknown user", UNKNOWN_USER),
        ("agent@example.com", "not the password", "wrong password", "agent@example.com"),
    ],
)
def test_failed_sign_in_says_the_same_and_is_audited(
    db: Database, people: dict[str, Principal], username: str, password: str, reason: str, logged_as: str
) -> None:
    with pytest.raises(SignInFailed, match="^unknown user or wrong password$"):
        users.authenticate(db, username, password)
    with read_scope(db) as session:
        last = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).one()
    assert (last.action, last.username, last.details) == ("sign_in_failed", logged_as, {"reason": reason})
    assert verify_audit_chain(db).ok


def test_a_password_typed_into_the_username_field_leaves_no_trace(
    db: Database, people: dict[str, Principal]
) -> None:
    with pytest.raises(SignInFailed):
        users.authenticate(db, "Tr0ub4dor&3-secret", "")
    with pytest.raises(SignInFailed):
        users.principal_for_oidc(db, "sub-2", "Tr0ub4dor&3-elsewhere", None)
    dump = dump_database(db)
    assert "tr0ub4dor" not in dump.lower()


def test_deactivated_user_is_refused(db: Database, people: dict[str, Principal]) -> None:
    users.set_active(db, "coach@example.com", False, actor=people["admin"])
    with pytest.raises(SignInFailed, match="deactivated"):
        users.authenticate(db, "coach@example.com", PASSWORD)
    # Without the right password nobody learns that the account exists but is deactivated.
    with pytest.raises(SignInFailed, match="^unknown user or wrong password$"):
        users.authenticate(db, "coach@example.com", "a wrong password")
    assert not users.principal_is_current(db, people["coach"])
    users.set_active(db, "coach@example.com", True, actor=None)
    assert users.authenticate(db, "coach@example.com", PASSWORD).role == "coach"


def test_admin_cannot_deactivate_themselves(db: Database, people: dict[str, Principal]) -> None:
    with pytest.raises(InvalidValue, match="cannot deactivate their own account"):
        users.set_active(db, "admin@example.com", False, actor=people["admin"])


def test_password_is_rehashed_when_parameters_change(
    db: Database, people: dict[str, Principal], monkeypatch: pytest.MonkeyPatch
) -> None:
    def stored_hash() -> str:
        with read_scope(db) as session:
            stored = session.scalars(
                select(User.password_hash).where(User.username == "agent@example.com")
            ).one()
        assert stored is not None
        return stored

    before = stored_hash()
    assert "t=1" in before
    monkeypatch.setattr(users, "_HASHER", PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1))
    users.authenticate(db, "agent@example.com", PASSWORD)
    after = stored_hash()
    assert after != before and "m=2048,t=2" in after
    users.authenticate(db, "agent@example.com", PASSWORD)
    assert stored_hash() == after  # no rehash when nothing changed


@pytest.mark.parametrize("role", ["agent", "coach", "compliance"])
def test_only_admins_manage_users(db: Database, people: dict[str, Principal], role: str) -> None:
    actor = people[role]
    with pytest.raises(PermissionDenied):
        users.create_user(db, "new@example.com", PASSWORD, "admin", actor=actor)
    with pytest.raises(PermissionDenied):
        users.set_role(db, actor.username, "admin", actor=actor)
    with pytest.raises(PermissionDenied):
        users.set_password(db, "admin@example.com", "taken over now", actor=actor)
    with pytest.raises(PermissionDenied):
        users.set_active(db, "admin@example.com", False, actor=actor)
    with pytest.raises(PermissionDenied):
        users.list_users(db, actor=actor)
    assert [u.role for u in users.list_users(db, actor=people["admin"])] == [
        "admin",
        "agent",
        "coach",
        "compliance",
    ]


def test_set_role_changes_role_and_agent_link(db: Database, people: dict[str, Principal]) -> None:
    changed = users.set_role(db, "agent@example.com", "coach", actor=people["admin"])
    assert (changed.role, changed.agent) == ("coach", None)
    assert not users.principal_is_current(db, people["agent"])
    with read_scope(db) as session:
        last = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).one()
    assert (last.action, last.user_id, last.username) == (
        "user_changed",
        people["admin"].user_id,
        "admin@example.com",
    )
    assert last.details == {"change": "role", "from": "agent", "to": "coach", "agent": None}


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda db: users.create_user(db, "x@example.com", "short", "agent", actor=None),
            "at least 10 characters",
        ),
        (
            lambda db: users.create_user(db, "x@example.com", PASSWORD, "boss", actor=None),  # type: ignore[arg-type]
            "role 'boss' is not one of",
        ),
        (lambda db: users.create_user(db, "two words", PASSWORD, "agent", actor=None), "without spaces"),
        (
            lambda db: users.create_user(db, "AGENT@example.com", PASSWORD, "agent", actor=None),
            "already exists",
        ),
        (lambda db: users.set_password(db, "ghost", PASSWORD, actor=None), "no user 'ghost'"),
    ],
)
def test_bad_input_gives_clear_error_and_changes_nothing(
    db: Database, people: dict[str, Principal], call, message: str
) -> None:
    def snapshot() -> list:
        with db.engine.connect() as connection:
            return [
                connection.execute(text(f"SELECT * FROM {t} ORDER BY id")).all()
                for t in ("users", "audit_log")
            ]

    before = snapshot()
    with pytest.raises((InvalidValue, NotFound), match=message):
        call(db)
    assert snapshot() == before


def test_oidc_links_by_email_then_by_subject(db: Database, people: dict[str, Principal]) -> None:
    first = users.principal_for_oidc(db, "sub-123", "Coach@Example.com", "Coach")
    assert first == dataclasses.replace(people["coach"], session_id=first.session_id)
    assert users.principal_is_current(db, first)  # an OIDC sign-in opens a session too
    # The e-mail at the provider changed; the subject still finds the account.
    again = users.principal_for_oidc(db, "sub-123", "renamed@example.com", "Coach")
    assert again.user_id == people["coach"].user_id
    # Another identity using the same e-mail cannot take the linked account over.
    with pytest.raises(SignInFailed):
        users.principal_for_oidc(db, "sub-999", "coach@example.com", "Impostor")


def test_oidc_unknown_identity_is_refused_without_registering(
    db: Database, people: dict[str, Principal]
) -> None:
    with pytest.raises(SignInFailed, match="no earshot account for stranger@example.com; ask an admin"):
        users.principal_for_oidc(db, "sub-1", "stranger@example.com", "Stranger")
    with read_scope(db) as session:
        assert session.scalar(select(User.id).where(User.username == "stranger@example.com")) is None
        last = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).one()
    assert (last.action, last.details["reason"]) == ("sign_in_failed", "no account for this OIDC identity")


def test_oidc_only_account_cannot_use_a_password(db: Database, cheap_hashing: PasswordHasher) -> None:
    users.create_user(db, "sso@example.com", None, "coach", actor=None)
    with pytest.raises(SignInFailed, match="^unknown user or wrong password$"):
        users.authenticate(db, "sso@example.com", "")
    assert users.principal_for_oidc(db, "sub-sso", "sso@example.com", None).role == "coach"
