"""The session cookie's tokens: signed for one purpose, expiring, and worth nothing once altered."""

from __future__ import annotations

from review_app.session_cookie import SessionToken, grant_for, verified_token
from storage.access import Principal

KEY = bytes(range(32))


def test_a_grant_verifies_for_a_minute_and_never_as_a_cookie() -> None:
    coach = Principal(3, "coach@example.com", "coach", None, session_id=41)
    grant = grant_for(KEY, coach, now=1_000_000)
    assert grant is not None
    assert verified_token(KEY, "grant", grant, now=1_000_059) == SessionToken(41, 1_000_060)
    assert verified_token(KEY, "grant", grant, now=1_000_061) is None
    assert verified_token(KEY, "cookie", grant, now=1_000_000) is None  # a grant is no cookie
    assert verified_token(b"another app's key" * 2, "grant", grant, now=1_000_000) is None
    session, expires, signature = grant.split(".")
    assert verified_token(KEY, "grant", f"42.{expires}.{signature}", now=1_000_000) is None
    assert verified_token(KEY, "grant", "../../etc/passwd", now=1_000_000) is None


def test_no_grant_without_a_session() -> None:
    assert grant_for(KEY, Principal(3, "coach@example.com", "coach", None)) is None
