"""``/earshot/metrics``: the work queue's figures for Prometheus (``earshot.metrics``), for a scraper
that presents the bearer token in ``<data_dir>/secrets/metrics.key``; anyone else gets 401."""

from __future__ import annotations

import hmac
from functools import cache
from pathlib import Path

import anyio
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from earshot.metrics import METRICS_KEY, queue_registry
from review_app.audio_links import route_database
from review_app.config import app_settings
from storage.secrets import SecretStore


async def _metrics(request: Request) -> Response:
    settings = app_settings()
    token = SecretStore(settings.secrets_dir).key(METRICS_KEY).hex()
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        return PlainTextResponse(
            "metrics need the bearer token in <data_dir>/secrets/metrics.key",
            401,
            {"WWW-Authenticate": "Bearer"},
        )
    registry = _registry(settings.database_url, settings.secrets_dir)
    body = await anyio.to_thread.run_sync(generate_latest, registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})


@cache
def _registry(url: str, secrets_dir: Path) -> CollectorRegistry:
    return queue_registry(route_database(url, secrets_dir))


METRICS_ROUTE = Route("/earshot/metrics", _metrics, methods=["GET"])
