"""Throttling of password guessing: recent failed sign-ins counted per typed username and per client
address, in the database so that every app process sees the same counts.

``storage.users.authenticate`` asks before it runs the password hash: a refused attempt costs two
small queries, not argon2id's 64 MiB and half a second. Usernames are counted
whether or not an account has them, so the refusal does not tell who has an account. A client gets
more tries than an account, as several people may share one address (an office behind NAT).
"""

from __future__ import annotations

import hashlib
import hmac
import math
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage.db import secrets_of
from storage.models import SignInFailure, as_utc

__all__ = ["ACCOUNT_LIMIT", "CLIENT_LIMIT", "WINDOW", "clear_failures", "record_failure", "refusal"]

ACCOUNT_LIMIT = 5  # failures per username within WINDOW
CLIENT_LIMIT = 20  # failures per client address within WINDOW, whatever usernames were typed
WINDOW = timedelta(minutes=15)
_KEY_NAME = "sign_in"


def refusal(session: Session, username: str, client: str | None, now: datetime) -> str | None:
    """Why a sign-in must be refused without trying the password, or None to go ahead. The refusal
    lasts until the oldest counted failure leaves the window."""
    checks = [(SignInFailure.username == _key(session, username), ACCOUNT_LIMIT, "")]
    if client:
        checks.append((SignInFailure.client == client, CLIENT_LIMIT, " from this address"))
    for which, limit, source in checks:
        recent = select(SignInFailure.at).where(which, SignInFailure.at > now - WINDOW)
        counted = session.scalars(recent.order_by(SignInFailure.at.desc()).limit(limit)).all()
        if len(counted) >= limit:
            wait = as_utc(counted[-1]) + WINDOW - now  # type: ignore[operator]
            minutes = max(1, math.ceil(wait.total_seconds() / 60))
            unit = "minute" if minutes == 1 else "minutes"
            return f"too many failed sign-ins{source}; try again in {minutes} {unit}"
    return None


def record_failure(session: Session, username: str, client: str | None, now: datetime) -> None:
    """Count a failed password, and forget failures that left the window (the table stays small)."""
    session.execute(delete(SignInFailure).where(SignInFailure.at <= now - WINDOW))
    session.add(SignInFailure(at=now, username=_key(session, username), client=client))


def clear_failures(session: Session, username: str) -> None:
    """A correct password ends the account's count (not the client's: one's own account must not
    reset the count of guesses at others')."""
    session.execute(delete(SignInFailure).where(SignInFailure.username == _key(session, username)))


def _key(session: Session, username: str) -> str:
    """What was typed, as a keyed digest: the typed name may be a password typed into the wrong
    field, and must not be kept in readable form (as the audit log names no unknown account)."""
    return hmac.new(secrets_of(session).key(_KEY_NAME), username.encode(), hashlib.sha256).hexdigest()
