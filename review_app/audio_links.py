"""Short-lived signed links to a call's audio, bound to the sign-in they were issued in, and the HTTP
route that serves them.

The player runs in the browser and needs the audio as a URL. A link names the recording, the
review-app session (``storage.app_sessions``) and when it expires, signed with the app key that
``storage.secrets`` keeps outside the database: links survive a restart, and every app process that
shares the secrets folder honours them. On every request the route checks the signature and the
expiry, then asks storage whether the session is still open and its account active with a role that
may replay calls, so a link stops working at sign-out, a password change and a deactivation.

Each link's first request in a process is audited (``audio_fetched``). The range requests that follow
are not: a player fetches an hour in many pieces, and again at each seek, and one listen must not
write hundreds of rows. Links live minutes (``audio_link_seconds``) and the call page replaces them
as they age, so one audit row stands for minutes of listening; a process that serves a link another
process audited logs it once more (twice, never not at all). The route answers HTTP range requests
(Starlette's ``FileResponse``), so an hour-long call starts at once and seeks without downloading
what lies before.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import threading
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import anyio
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from earshot.settings import Settings
from review_app.config import app_settings
from review_app.playback import PlaybackError, playable_audio
from storage import guarded
from storage.access import Principal
from storage.app_sessions import current_principal
from storage.db import Database, open_database
from storage.errors import NotFound, PermissionDenied
from storage.secrets import SecretStore

__all__ = ["AUDIO_ROUTE", "AudioLink", "audio_url", "route_database", "sign", "signing_key", "verified_link"]

_PREFIX = "/earshot/audio/"
_TOKEN = re.compile(
    r"(?P<recording>\d{1,18})\.(?P<session>\d{1,18})\.(?P<expires>\d{1,12})\.(?P<signature>[0-9a-f]{64})"
)
_audited: dict[str, int] = {}  # the links this process has audited, with when they expire
_audited_guard = threading.Lock()


@dataclass(frozen=True)
class AudioLink:
    recording_id: int
    session_id: int  # the review-app session it was issued in
    expires: int  # Unix time


def signing_key(settings: Settings) -> bytes:
    return SecretStore(settings.secrets_dir).key("app")


def audio_url(
    key: bytes, recording_id: int, principal: Principal, lifetime_s: float, now: float | None = None
) -> str:
    """A link to the playable audio of a recording for ``principal``'s session, valid ``lifetime_s``
    (the setting ``audio_link_seconds``)."""
    if principal.session_id is None:
        raise PermissionDenied(f"{principal.username} has no open session to bind an audio link to")
    expires = int((time.time() if now is None else now) + lifetime_s)
    payload = f"{recording_id}.{principal.session_id}.{expires}"
    return f"{_PREFIX}{payload}.{sign(key, payload)}"


def verified_link(key: bytes, token: str, now: float | None = None) -> AudioLink | None:
    """What a token names, or None when it is malformed, forged or expired."""
    match = _TOKEN.fullmatch(token)
    if match is None:
        return None
    payload = f"{match['recording']}.{match['session']}.{match['expires']}"
    if not hmac.compare_digest(sign(key, payload), match["signature"]):
        return None
    if int(match["expires"]) < (time.time() if now is None else now):
        return None
    return AudioLink(int(match["recording"]), int(match["session"]), int(match["expires"]))


def sign(key: bytes, payload: str) -> str:
    """The app key's HMAC of ``payload``: what proves a link or the session cookie was made here."""
    return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()


async def _serve_audio(request: Request) -> Response:
    settings = app_settings()
    token = request.path_params["token"]
    link = verified_link(signing_key(settings), token)
    if link is None:
        return PlainTextResponse("this audio link is not valid (expired or altered); reopen the call", 403)
    try:
        audio = await anyio.to_thread.run_sync(_checked_audio, settings, link, token)
    except PermissionDenied as error:
        return PlainTextResponse(str(error), 403)
    except NotFound as error:
        return PlainTextResponse(str(error), 404)
    try:
        # Converting an hour of mu-law takes seconds: off the event loop, once per recording.
        playable = await anyio.to_thread.run_sync(
            playable_audio, audio.path, audio.sha256, settings.playback_dir
        )
    except PlaybackError as error:
        return PlainTextResponse(str(error), 415)
    # no-store: a browser must not replay from its cache what the server would now refuse.
    return FileResponse(playable.path, media_type=playable.media_type, headers={"Cache-Control": "no-store"})


def _checked_audio(settings: Settings, link: AudioLink, token: str) -> guarded.CallAudio:
    db = route_database(settings.database_url, settings.secrets_dir)
    principal = current_principal(db, link.session_id)
    if principal is None:
        raise PermissionDenied("the sign-in this audio link was issued in has ended; sign in again")
    with _audited_guard:
        first = token not in _audited
    audio = guarded.fetch_audio(db, principal, link.recording_id, settings.blob_store(), audit=first)
    if first:
        with _audited_guard:
            now = time.time()
            for expired in [t for t, expires in _audited.items() if expires < now]:
                del _audited[expired]
            _audited[token] = link.expires
    return audio


@cache
def route_database(url: str, secrets_dir: Path) -> Database:
    """One engine per process and database, shared by every request to the app's routes (the pages
    have their own)."""
    return open_database(url, secrets_dir=secrets_dir)


AUDIO_ROUTE = Route(_PREFIX + "{token}", _serve_audio, methods=["GET", "HEAD"])
