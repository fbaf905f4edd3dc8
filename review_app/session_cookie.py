"""The signed cookie that keeps a sign-in across reloads and shared links, and the route that sets it.

Streamlit keeps the signed-in principal in its session state, which a reload or a link opened in a
new tab starts afresh. The cookie names the review-app session (``storage.app_sessions``) and when
it expires, signed with the app key; a new page reads it (``st.context.cookies``) and asks storage
whether that session still stands, so sign-out, a password change, a deactivation and the session's
12 hours end the cookie as they end the page and its audio links.

A Streamlit script cannot set a response header, and a cookie written by page JavaScript cannot be
HttpOnly. So after a sign-in the page hands the browser a grant for its session that lives a minute;
the browser posts it to ``/earshot/session``, which answers with the cookie (HttpOnly,
SameSite=Strict, Secure over HTTPS). Signing out asks the same route to drop it.
"""

from __future__ import annotations

import hmac
import re
import time
from dataclasses import dataclass
from typing import Any, Literal

import anyio
import streamlit as st
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from review_app.audio_links import route_database, sign, signing_key
from review_app.config import app_settings
from storage.access import Principal
from storage.app_sessions import SESSION_LIFETIME, current_principal
from storage.db import Database

__all__ = [
    "COOKIE",
    "SESSION_ROUTE",
    "SessionToken",
    "forget_in_browser",
    "grant_for",
    "keep_in_browser",
    "resumed_principal",
    "verified_token",
]

COOKIE = "earshot_session"
_PATH = "/earshot/session"
_GRANT_SECONDS = 60
_TOKEN = re.compile(r"(?P<session>\d{1,18})\.(?P<expires>\d{1,12})\.(?P<signature>[0-9a-f]{64})")
# A grant and a cookie are signed for their purpose: one cannot stand in for the other.
Purpose = Literal["grant", "cookie"]


@dataclass(frozen=True)
class SessionToken:
    session_id: int  # the review-app session
    expires: int  # Unix time


def _token(key: bytes, purpose: Purpose, session_id: int, expires: int) -> str:
    payload = f"{session_id}.{expires}"
    return f"{payload}.{sign(key, f'{purpose}:{payload}')}"


def verified_token(key: bytes, purpose: Purpose, token: str, now: float | None = None) -> SessionToken | None:
    """What a grant or cookie names, or None when it is malformed, forged, for the other purpose, or
    expired."""
    match = _TOKEN.fullmatch(token)
    if match is None:
        return None
    payload = f"{match['session']}.{match['expires']}"
    if not hmac.compare_digest(sign(key, f"{purpose}:{payload}"), match["signature"]):
        return None
    if int(match["expires"]) < (time.time() if now is None else now):
        return None
    return SessionToken(int(match["session"]), int(match["expires"]))


def grant_for(key: bytes, principal: Principal, now: float | None = None) -> str | None:
    """A grant the browser trades for the cookie of ``principal``'s session, or None without one."""
    if principal.session_id is None:
        return None
    expires = int((time.time() if now is None else now) + _GRANT_SECONDS)
    return _token(key, "grant", principal.session_id, expires)


def resumed_principal(db: Database, key: bytes, cookie: str | None) -> Principal | None:
    """The principal of the session a cookie names, if the cookie is genuine and the session stands."""
    token = verified_token(key, "cookie", cookie) if cookie else None
    return current_principal(db, token.session_id) if token is not None else None


_BROWSER = st.components.v2.component(
    "earshot_session_cookie",
    js="""
export default function ({ data }) {
  // Once per grant (or sign-out): the component renders again at every rerun of the page.
  const sent = (window.earshotSessionSent ??= new Set());
  if (!data || sent.has(data.once)) return;
  sent.add(data.once);
  fetch(data.url, { method: data.method, body: data.grant, credentials: "same-origin" });
}
""",
)


_INVISIBLE: dict[str, Any] = {"key": "session-cookie", "height": 0}


def keep_in_browser(grant: str) -> None:
    """Have the browser trade ``grant`` for the session cookie (once, however often this renders)."""
    _BROWSER(data={"url": _PATH, "method": "POST", "grant": grant, "once": grant}, **_INVISIBLE)


def forget_in_browser(once: int) -> None:
    """Have the browser drop the session cookie, once per ``once``."""
    _BROWSER(data={"url": _PATH, "method": "DELETE", "grant": None, "once": f"forget-{once}"}, **_INVISIBLE)


async def _session_cookie(request: Request) -> Response:
    settings = app_settings()
    secure = request.url.scheme == "https"
    if request.method == "DELETE":
        response: Response = Response(status_code=204)
        response.delete_cookie(COOKIE, path="/", secure=secure, httponly=True, samesite="strict")
        return response
    key = signing_key(settings)
    grant = verified_token(key, "grant", (await request.body()).decode("ascii", "replace"))
    if grant is None:
        return PlainTextResponse("this sign-in grant is not valid (expired or altered)", 403)
    db = route_database(settings.database_url, settings.secrets_dir)
    principal = await anyio.to_thread.run_sync(current_principal, db, grant.session_id)
    if principal is None:
        return PlainTextResponse("the sign-in this grant was issued in has ended", 403)
    lifetime = int(SESSION_LIFETIME.total_seconds())
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    response.set_cookie(
        COOKIE,
        _token(key, "cookie", grant.session_id, int(time.time()) + lifetime),
        max_age=lifetime,
        path="/",
        secure=secure,
        httponly=True,
        samesite="strict",
    )
    return response


SESSION_ROUTE = Route(_PATH, _session_cookie, methods=["POST", "DELETE"])
