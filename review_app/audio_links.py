"""Short-lived signed links to a call's audio, and the HTTP route that serves them.

The player runs in the browser and needs the audio as a URL. A page issues a link only after the
storage services let the signed-in user replay that call (and audited it), so the route checks the
link's signature instead of a session: a link cannot be made up or reused after it expires. The
route answers HTTP range requests (Starlette's ``FileResponse``), so an hour-long call starts at once
and seeks without downloading what lies before.

The signing key lives in this process; links die when the app restarts, and several app processes
behind one address need sticky sessions.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time

import anyio
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from review_app.config import app_settings
from review_app.playback import PlaybackError, playable_audio
from storage.blobs import BlobStore

__all__ = ["AUDIO_ROUTE", "LINK_LIFETIME_S", "audio_url", "verified_sha256"]

LINK_LIFETIME_S = 12 * 3600  # a review session; the page issues a fresh link on every visit
_KEY = secrets.token_bytes(32)
_PREFIX = "/earshot/audio/"
_TOKEN = re.compile(r"(?P<sha>[0-9a-f]{64})\.(?P<expires>\d{1,12})\.(?P<signature>[0-9a-f]{64})")


def audio_url(sha256: str, now: float | None = None) -> str:
    """A link to the playable audio of the recording with this SHA-256, valid for LINK_LIFETIME_S."""
    expires = int((time.time() if now is None else now) + LINK_LIFETIME_S)
    payload = f"{sha256}.{expires}"
    return f"{_PREFIX}{payload}.{_sign(payload)}"


def verified_sha256(token: str, now: float | None = None) -> str | None:
    """The recording a token names, or None when it is malformed, forged or expired."""
    match = _TOKEN.fullmatch(token)
    if match is None:
        return None
    payload = f"{match['sha']}.{match['expires']}"
    if not hmac.compare_digest(_sign(payload), match["signature"]):
        return None
    if int(match["expires"]) < (time.time() if now is None else now):
        return None
    return match["sha"]


def _sign(payload: str) -> str:
    return hmac.new(_KEY, payload.encode(), hashlib.sha256).hexdigest()


async def _serve_audio(request: Request) -> Response:
    sha256 = verified_sha256(request.path_params["token"])
    if sha256 is None:
        return PlainTextResponse("this audio link is not valid (expired or altered); reopen the call", 403)
    settings = app_settings()
    source = BlobStore(settings.blobs_dir).path_for(sha256)
    if not source.is_file():
        return PlainTextResponse("the audio of this call is missing from the store", 404)
    try:
        # Converting an hour of mu-law takes seconds: off the event loop, once per recording.
        playable = await anyio.to_thread.run_sync(
            playable_audio, source, sha256, settings.data_dir / "playback"
        )
    except PlaybackError as error:
        return PlainTextResponse(str(error), 415)
    return FileResponse(
        playable.path, media_type=playable.media_type, headers={"Cache-Control": "private, max-age=3600"}
    )


AUDIO_ROUTE = Route(_PREFIX + "{token}", _serve_audio, methods=["GET", "HEAD"])
