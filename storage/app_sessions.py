"""Review-app sessions: one row per sign-in, open until sign-out, a password change, a deactivation,
or SESSION_LIFETIME.

The app keeps the principal in Streamlit's session state, and an audio link names the session it
was issued in; the audio route runs in another request, perhaps in another app process, and knows
nothing else. Both ask ``current_principal`` whether the sign-in still stands, so whatever ends a
session ends its page and its links at once, in every process.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from sqlalchemy import ColumnElement, Update, update
from sqlalchemy.orm import Session

from storage.access import Principal
from storage.db import Database, read_scope, session_scope
from storage.models import AppSession, User, as_utc, utc_now

__all__ = [
    "SESSION_LIFETIME",
    "EndReason",
    "current_principal",
    "end_session",
    "end_user_sessions",
    "open_session",
]

# A working day: a tab left open overnight signs in again.
SESSION_LIFETIME = timedelta(hours=12)
EndReason = Literal["signed_out", "password_changed", "deactivated", "account_changed"]


def open_session(session: Session, user: User) -> Principal:
    """Open a session for ``user`` inside the sign-in's transaction and return its principal."""
    row = AppSession(user_id=user.id, started_at=utc_now())
    session.add(row)
    session.flush()
    return _principal(user, row.id)


def current_principal(db: Database, session_id: int | None) -> Principal | None:
    """The principal of an open session, as the account stands now (role and agent link included), or
    None when the session ended, expired, or its account was deactivated."""
    if session_id is None:
        return None
    with read_scope(db) as session:
        row = session.get(AppSession, session_id)
        if row is None or row.ended_at is not None:
            return None
        if as_utc(row.started_at) + SESSION_LIFETIME < utc_now():  # type: ignore[operator]
            return None
        user = session.get_one(User, row.user_id)
        return _principal(user, row.id) if user.active else None


def end_session(db: Database, principal: Principal, reason: EndReason = "signed_out") -> None:
    """End the session behind ``principal`` (sign-out); a session already ended stays as it ended."""
    if principal.session_id is None:
        return
    with session_scope(db) as session:
        session.execute(_ending(reason, AppSession.id == principal.session_id))


def end_user_sessions(session: Session, user_id: int, reason: EndReason) -> None:
    """End every open session of an account, inside the caller's transaction (the change that
    demands it commits with it)."""
    session.execute(_ending(reason, AppSession.user_id == user_id))


def _ending(reason: EndReason, *which: ColumnElement[bool]) -> Update:
    return (
        update(AppSession)
        .where(AppSession.ended_at.is_(None), *which)
        .values(ended_at=utc_now(), end_reason=reason)
    )


def _principal(user: User, session_id: int) -> Principal:
    return Principal(
        user_id=user.id,
        username=user.username,
        role=user.role,  # type: ignore[arg-type]
        agent_id=user.agent_id,
        session_id=session_id,
    )
