"""`GET /metrics`: this node's figures for Prometheus, for an admin's key."""

from __future__ import annotations

from fastapi import APIRouter, Response

from sendmako.api import metrics
from sendmako.api.deps import ServicesDep
from sendmako.api.routes.admin import Admin
from sendmako.api.routes.responses import errors

router = APIRouter(tags=["monitoring"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {
            "content": {metrics.CONTENT_TYPE: {}},
            "description": "Prometheus text format (version 0.0.4)",
        },
        **errors(401, 403),
    },
)
async def scrape(_admin: Admin, services: ServicesDep) -> Response:
    """This node's metrics in Prometheus's text format (README "Monitoring"): HTTP requests
    by route template and status with latency histograms (`sendmako_http_request_duration_
    seconds`); per session, the status (`sendmako_session_status`), messages sent and
    received, and the send queue's depth; the webhook backlog (pending deliveries, the age of
    the oldest, both database-wide), attempts by outcome and the delivery lag; WhatsApp
    worker starts and crashes, decrypt-media bytes, the database pool (PostgreSQL), event
    stream clients.

    Needs an **admin's** API key (401 without a key, 403 with another user's). A scraper that
    holds no key can use the second listener instead: `SENDMAKO_METRICS__LISTEN=host:port`
    serves only `/metrics`, without a key, to whoever reaches that address. With several
    nodes, scrape each node: each answers for itself."""
    return Response(await metrics.exposition(services), media_type=metrics.CONTENT_TYPE)
