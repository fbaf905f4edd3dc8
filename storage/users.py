"""Accounts: create and change users, sign in with a password (argon2id) or an OIDC identity.

Every change and every sign-in, failed ones included, is written to the audit log in the same
transaction. There is no self-registration: an admin (or the command line, for the first admin)
creates each account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NoReturn

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.access import USER_ROLES, Permission, Principal, UserRole, require
from storage.agent_links import linked_agent
from storage.app_sessions import current_principal, end_user_sessions, open_session
from storage.audit import COMMAND_LINE, UNKNOWN_USER, append_event
from storage.db import Database, read_scope, session_scope
from storage.errors import InvalidValue, NotFound, SignInFailed
from storage.models import Agent, User, utc_now
from storage.services import _as_utc
from storage.sign_in_throttle import clear_failures, record_failure, refusal

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "UserSummary",
    "authenticate",
    "create_user",
    "list_users",
    "principal_for_oidc",
    "principal_is_current",
    "set_active",
    "set_password",
    "set_role",
]

MIN_PASSWORD_LENGTH = 10
_MAX_USERNAME_LENGTH = 320
# argon2-cffi's defaults (RFC 9106's second recommendation: argon2id, 64 MiB, 3 passes). When a
# later version changes them, ``authenticate`` rehashes each password at its next sign-in.
_HASHER = PasswordHasher()
_SIGN_IN_FAILED = "unknown user or wrong password"
# Verified when the username is unknown, so an unknown user costs as long as a wrong password and the
# response time does not tell who has an account. A constant (of a random, forgotten password) rather
# than hashed at start-up, which would cost every command ~0.5 s, or at first use, which would make
# the first unknown-user sign-in stand out.
_DUMMY_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$gEO+z6vLVsQO9Zc2FkbMXw$QJ9yOeyNlnmXJHxw/o46BqkLvOAdp/D4N4tf5zQcJUw"
)


@dataclass(frozen=True)
class UserSummary:
    id: int
    username: str
    display_name: str | None
    role: UserRole
    agent_id: int | None  # the linked PBX agent
    agent: str | None  # and its name
    active: bool
    has_password: bool
    oidc_linked: bool
    created_at: datetime


def create_user(
    db: Database,
    username: str,
    password: str | None,
    role: UserRole,
    display_name: str | None = None,
    agent_name: str | None = None,
    *,
    actor: Principal | None,
    create_agent: bool = False,
) -> UserSummary:
    """A new account. ``password`` None: the user signs in only through OIDC. ``agent_name`` links the
    account to an existing PBX agent (``storage.agent_links``; ``create_agent``: a new one if none has
    that name yet). ``actor`` None: the command line, whose user already holds the database file."""
    _require_admin(actor)
    name = _normalize_username(username)
    _check_role(role)
    password_hash = _hash_password(name, password) if password is not None else None
    with session_scope(db) as session:
        if session.scalar(select(User.id).where(User.username == name)) is not None:
            raise InvalidValue(f"user {name!r} already exists")
        agent = linked_agent(session, agent_name, create=create_agent)
        user = User(
            username=name,
            display_name=display_name,
            password_hash=password_hash,
            role=role,
            agent_id=agent.id if agent else None,
            active=True,
        )
        session.add(user)
        session.flush()
        _audit_change(
            session, actor, user, {"change": "created", "role": role, "agent": agent.name if agent else None}
        )
        return _summary(session, user)


def set_password(db: Database, username: str, password: str, *, actor: Principal | None) -> None:
    """Set a new password and end the account's open sessions: whoever knew the old one is out."""
    _require_admin(actor)
    name = _normalize_username(username)
    password_hash = _hash_password(name, password)
    with session_scope(db) as session:
        user = _get_user(session, name)
        user.password_hash = password_hash
        end_user_sessions(session, user.id, "password_changed")
        _audit_change(session, actor, user, {"change": "password"})


def set_role(
    db: Database,
    username: str,
    role: UserRole,
    agent_name: str | None = None,
    *,
    actor: Principal | None,
    create_agent: bool = False,
) -> UserSummary:
    """Change the role (and the agent link, given as set: None unlinks; matched as in ``create_user``)."""
    _require_admin(actor)
    _check_role(role)
    with session_scope(db) as session:
        user = _get_user(session, _normalize_username(username))
        previous = user.role
        agent = linked_agent(session, agent_name, create=create_agent)
        user.role = role
        user.agent_id = agent.id if agent else None
        details: dict[str, object] = {
            "change": "role",
            "from": previous,
            "to": role,
            "agent": agent.name if agent else None,
        }
        _audit_change(session, actor, user, details)
        return _summary(session, user)


def set_active(db: Database, username: str, active: bool, *, actor: Principal | None) -> None:
    """Deactivate (or reactivate) an account. Accounts are never deleted: the audit log names them."""
    _require_admin(actor)
    with session_scope(db) as session:
        user = _get_user(session, _normalize_username(username))
        if actor is not None and actor.user_id == user.id and not active:
            raise InvalidValue(f"{user.username} cannot deactivate their own account")
        user.active = active
        if not active:
            end_user_sessions(session, user.id, "deactivated")
        _audit_change(session, actor, user, {"change": "activated" if active else "deactivated"})


def list_users(db: Database, *, actor: Principal | None) -> list[UserSummary]:
    _require_admin(actor)
    with read_scope(db) as session:
        return [_summary(session, user) for user in session.scalars(select(User).order_by(User.username))]


def authenticate(db: Database, username: str, password: str, *, client: str | None = None) -> Principal:
    """Sign in with a password and open a session. Every attempt is audited; failures raise
    ``SignInFailed`` with the same message whether the user is unknown or the password wrong.

    ``client`` (the address the attempt came from) and the typed name are throttled
    (``storage.sign_in_throttle``) before the password hash runs."""
    name = username.strip().lower()
    now = utc_now()
    with session_scope(db) as session:
        user = session.scalar(select(User).where(User.username == name)) if name else None
        throttled = refusal(session, name, client, now)
        if throttled is not None:
            _fail(session, user, "throttled", message=throttled)
        if user is None or user.password_hash is None:
            _verify(_DUMMY_HASH, password)
            reason = "unknown user" if user is None else "no password set (OIDC sign-in only)"
            record_failure(session, name, client, now)
            _fail(session, user, reason)
        if not _verify(user.password_hash, password):
            record_failure(session, name, client, now)
            _fail(session, user, "wrong password")
        clear_failures(session, name)
        if not user.active:
            _fail(session, user, "account deactivated", message=f"the account {name!r} is deactivated")
        if _HASHER.check_needs_rehash(user.password_hash):
            user.password_hash = _HASHER.hash(password)
        principal = open_session(session, user)
        append_event(session, principal, "sign_in", f"user:{user.id}", {"method": "password"})
    return principal


def principal_for_oidc(db: Database, subject: str, email: str | None, name: str | None) -> Principal:
    """The account behind an identity from Streamlit's ``st.login``: the user already linked to this
    OIDC subject, else the user whose username is the e-mail (linked now, for good). An identity that
    matches no account is refused: accounts are created by an admin, never by signing in."""
    if not subject:
        raise SignInFailed("the identity provider sent no subject (sub) for this sign-in")
    email_name = email.strip().lower() if email else None
    with session_scope(db) as session:
        user = session.scalar(select(User).where(User.oidc_subject == subject))
        if user is None and email_name:
            user = session.scalar(select(User).where(User.username == email_name))
            if user is not None and user.oidc_subject is not None:
                # The e-mail's account is bound to another identity: a second login with the same
                # e-mail address at the provider must not take it over.
                _fail(session, user, "account linked to another OIDC identity")
            if user is not None:
                user.oidc_subject = subject
        who = email_name or name or subject
        if user is None:
            _fail(
                session,
                None,
                "no account for this OIDC identity",
                message=f"there is no earshot account for {who}; ask an admin to add one",
                details={"subject": subject},
            )
        if not user.active:
            _fail(session, user, "account deactivated", message=f"the account {who!r} is deactivated")
        principal = open_session(session, user)
        append_event(session, principal, "sign_in", f"user:{principal.user_id}", {"method": "oidc"})
    return principal


def principal_is_current(db: Database, principal: Principal) -> bool:
    """Whether a principal kept from an earlier sign-in still stands: its session is open and the
    account is active with the same role and agent link, so the app can end a session that has since
    been signed out elsewhere, or whose account was changed, deactivated or given a new password."""
    return current_principal(db, principal.session_id) == principal


def _fail(
    session: Session,
    user: User | None,
    reason: str,
    *,
    message: str = _SIGN_IN_FAILED,
    details: dict[str, str] | None = None,
) -> NoReturn:
    """Audit a failed sign-in, commit it, and raise: the audit row must outlive the refusal. It names
    the account tried, never a name that is none: that may be a password typed into the wrong field."""
    append_event(
        session,
        None,
        "sign_in_failed",
        f"user:{user.id}" if user is not None else None,
        {"reason": reason, **(details or {})},
        username=user.username if user is not None else UNKNOWN_USER,
    )
    session.commit()
    raise SignInFailed(message)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _hash_password(username: str, password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidValue(
            f"the password for {username!r} must have at least {MIN_PASSWORD_LENGTH} characters"
        )
    return _HASHER.hash(password)


def _normalize_username(username: str) -> str:
    name = username.strip().lower()
    if not name or any(c.isspace() for c in name) or len(name) > _MAX_USERNAME_LENGTH:
        raise InvalidValue(
            f"username {username!r} must be 1 to {_MAX_USERNAME_LENGTH} characters without spaces"
        )
    return name


def _check_role(role: str) -> None:
    if role not in USER_ROLES:
        raise InvalidValue(f"role {role!r} is not one of {', '.join(USER_ROLES)}")


def _require_admin(actor: Principal | None) -> None:
    if actor is not None:
        require(actor, Permission.MANAGE_USERS)


def _get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user {username!r}")
    return user


def _audit_change(session: Session, actor: Principal | None, user: User, details: dict[str, object]) -> None:
    append_event(session, actor, "user_changed", f"user:{user.id}", details, username=COMMAND_LINE)


def _summary(session: Session, user: User) -> UserSummary:
    agent = session.get(Agent, user.agent_id) if user.agent_id is not None else None
    return UserSummary(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,  # type: ignore[arg-type]
        agent_id=user.agent_id,
        agent=agent.name if agent is not None else None,
        active=user.active,
        has_password=user.password_hash is not None,
        oidc_linked=user.oidc_subject is not None,
        created_at=_as_utc(user.created_at),  # type: ignore[arg-type]
    )
