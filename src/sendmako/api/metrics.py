"""`/metrics` in Prometheus's text format: the counters every layer keeps (`metrics.py`), and
the states read at scrape time: this node's sessions and their queues, the webhook backlog,
the database pool.

Two ways in (README "Monitoring"): `GET /metrics` on the API port with an admin's key, or a
second listener (SENDMAKO_METRICS__LISTEN) that serves only `/metrics`, to anyone who
reaches it, for a scraper that holds no key. Each node answers for itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.registry import Collector
from sqlalchemy.pool import QueuePool
from starlette.types import Receive, Scope, Send

from sendmako import log, metrics
from sendmako.model.statuses import SessionStatus
from sendmako.storage.backlog import Backlog, webhook_backlog

if TYPE_CHECKING:
    import uvicorn

    from sendmako.wiring import Services

logger = log.get(__name__)

# The text format every Prometheus reads (our names need none of 1.0.0's escaping).
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4


async def exposition(services: Services) -> bytes:
    """The text a scrape answers: one database query, the rest from memory."""
    async with services.db.read() as db:
        backlog = await webhook_backlog(db)
    states = CollectorRegistry(auto_describe=False)
    states.register(_States(services, backlog, datetime.now(UTC)))
    return generate_latest(metrics.REGISTRY) + generate_latest(states)


class _States(Collector):
    """What is read rather than counted, as it stands at this scrape."""

    def __init__(self, services: Services, backlog: Backlog, now: datetime) -> None:
        self.services = services
        self.backlog = backlog
        self.now = now

    def collect(self) -> Iterator[Metric]:
        running = self.services.sessions.running_here()
        status = GaugeMetricFamily(
            "sendmako_session_status",
            "Each session this node runs, labelled with its status (always 1)",
            labels=["session_id", "engine", "status"],
        )
        queued = GaugeMetricFamily(
            "sendmako_session_queue_depth",
            "Messages waiting in a session's paced send queue",
            labels=["session_id"],
        )
        restricted = GaugeMetricFamily(
            "sendmako_session_restriction_seconds",
            "WhatsApp's restriction on a session's number now: seconds until it lifts "
            "(0: not said), labelled with its kind and code; absent when there is none",
            labels=["session_id", "kind", "code"],
        )
        counts = dict.fromkeys(SessionStatus, 0)
        for view, waiting in running:
            status.add_metric([view.session_id, view.engine, view.status.value], 1)
            queued.add_metric([view.session_id], waiting)
            counts[view.status] += 1
            restriction = self.services.sessions.restriction(view.session_id)
            if restriction is not None:
                left = (restriction.until - self.now).total_seconds() if restriction.until else 0
                restricted.add_metric(
                    [view.session_id, restriction.kind.value, str(restriction.code)],
                    max(left, 0.0),
                )
        by_status = GaugeMetricFamily(
            "sendmako_sessions",
            "Sessions this node runs, by status",
            labels=["status"],
        )
        for state, count in counts.items():
            by_status.add_metric([state.value], count)
        yield from (status, queued, restricted, by_status)
        yield GaugeMetricFamily(
            "sendmako_webhook_pending_deliveries",
            "Webhook deliveries not yet succeeded or given up (database-wide)",
            value=self.backlog.pending,
        )
        oldest = self.backlog.oldest
        yield GaugeMetricFamily(
            "sendmako_webhook_oldest_pending_seconds",
            "Age of the oldest pending webhook delivery, 0 when none (database-wide)",
            value=max(0.0, (self.now - oldest).total_seconds()) if oldest else 0.0,
        )
        yield from _pool(self.services)


def _pool(services: Services) -> Iterator[Metric]:
    pool = services.db.engine.sync_engine.pool
    if not isinstance(pool, QueuePool):
        return  # SQLite's pools have no size to report
    connections = GaugeMetricFamily(
        "sendmako_db_pool_connections",
        "This node's database connections: in use, idle in the pool, and overflow "
        "(opened past the pool's size)",
        labels=["state"],
    )
    connections.add_metric(["in_use"], pool.checkedout())
    connections.add_metric(["idle"], pool.checkedin())
    connections.add_metric(["overflow"], max(0, pool.overflow()))
    yield connections
    yield GaugeMetricFamily(
        "sendmako_db_pool_size", "The database pool's size (before overflow)", value=pool.size()
    )


class ScrapeApp:
    """The second listener's whole application: `/metrics`, and 404 for anything else."""

    def __init__(self, services: Callable[[], Services]) -> None:
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        if scope["path"] != "/metrics" or scope["method"] not in ("GET", "HEAD"):
            await _answer(send, 404, b"not found: only /metrics is served here\n", "text/plain")
            return
        body = await exposition(self.services())
        await _answer(send, 200, body if scope["method"] == "GET" else b"", CONTENT_TYPE)


async def _answer(send: Send, status: int, body: bytes, content_type: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class ScrapeListener:
    """The second listener, run by the app's lifespan beside the API's own server."""

    def __init__(self, app: ScrapeApp, listen: str) -> None:
        import uvicorn

        host, _, port = listen.rpartition(":")

        class Server(uvicorn.Server):
            @contextlib.contextmanager
            def capture_signals(self) -> Iterator[None]:
                # The API's server handles the process's signals; this one is stopped by it.
                yield

        self._server: uvicorn.Server = Server(
            uvicorn.Config(
                app,
                host=host.strip("[]"),
                port=int(port),
                lifespan="off",
                log_config=None,
                access_log=False,
                ws="none",
            )
        )
        self._task: asyncio.Task[None] | None = None
        self._socket: socket.socket | None = None

    async def start(self) -> None:
        """Bound and listening once this returns (a taken port raises OSError here, rather
        than uvicorn's exit); scrapes that come before uvicorn runs wait in the backlog."""
        host, port = self._server.config.host, self._server.config.port
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
            sock.listen(128)
        except OSError:
            sock.close()
            raise
        self._socket = sock
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        logger.info("metrics.listening", address=f"{host}:{port}")

    async def stop(self) -> None:
        if self._task is not None:
            self._server.should_exit = True
            await self._task
        if self._socket is not None:
            self._socket.close()
