"""This node's Prometheus instruments, on their own registry (README "Monitoring").

A kernel module, so any layer can count what it does with one call and no wiring: the
dispatcher its attempts, the queue its sends, the supervisor its workers. What is a state
rather than a count (sessions, queue depths, pending deliveries, the database pool) is not
kept here but read when Prometheus scrapes (`api/metrics.py`), so it costs nothing between
scrapes. Counters only ever grow while the process lives; tests compare before and after.

Per-request cost matters (every API call is timed): `observe_request` keeps each label
combination's histogram child in a dict, since prometheus-client's own `labels()` lookup
costs more than the observation itself.
"""

from __future__ import annotations

from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.metrics import MetricWrapperBase

REGISTRY = CollectorRegistry(auto_describe=True)

# Latency buckets for an API that answers most calls in a few milliseconds and a send in tens.
_HTTP_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# From an event being recorded to its webhook answered: seconds to a day of retries.
_LAG_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0, 60.0, 300.0, 3600.0, 86400.0)

HTTP_REQUESTS = Histogram(
    "sendmako_http_request_duration_seconds",
    "HTTP requests by method, route template and status, with their latency "
    "(the histogram's _count is the number of requests)",
    ["method", "route", "status"],
    buckets=_HTTP_BUCKETS,
    registry=REGISTRY,
)
MESSAGES_SENT = Counter(
    "sendmako_messages_sent",
    "Messages a session sent (WhatsApp accepted them)",
    ["session_id"],
    registry=REGISTRY,
)
MESSAGES_RECEIVED = Counter(
    "sendmako_messages_received",
    "Messages a session received (stored)",
    ["session_id"],
    registry=REGISTRY,
)
WEBHOOK_ATTEMPTS = Counter(
    "sendmako_webhook_attempts",
    "Webhook delivery attempts made by this node, by outcome: succeeded, retrying "
    "(failed, tried again later) or failed (given up)",
    ["outcome"],
    registry=REGISTRY,
)
WEBHOOK_LAG = Histogram(
    "sendmako_webhook_delivery_lag_seconds",
    "From an event being recorded (or redelivered) to its webhook succeeding",
    buckets=_LAG_BUCKETS,
    registry=REGISTRY,
)
WORKER_STARTS = Counter(
    "sendmako_worker_starts",
    "WhatsApp worker processes started (neonize engine)",
    registry=REGISTRY,
)
WORKER_CRASHES = Counter(
    "sendmako_worker_crashes",
    "WhatsApp worker processes that crashed or hung (neonize engine)",
    registry=REGISTRY,
)
DECRYPTED_BYTES = Counter(
    "sendmako_decrypt_media_bytes",
    "Plaintext bytes served by decrypt-media",
    registry=REGISTRY,
)
EVENT_STREAMS = Gauge(
    "sendmako_event_streams",
    "Clients following GET /api/events on this node",
    registry=REGISTRY,
)
EVENT_STREAM_DROPS = Counter(
    "sendmako_event_stream_drops",
    "Event stream clients dropped for not reading (they may resume with Last-Event-ID)",
    registry=REGISTRY,
)

_http_children: dict[tuple[str, str, int], Histogram] = {}


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    """One HTTP request answered. `route` is a template (`/api/chats/{chat}`), never a path
    as sent: a label per distinct path would grow without bound."""
    key = (method, route, status)
    child = _http_children.get(key)
    if child is None:
        child = _http_children[key] = HTTP_REQUESTS.labels(method, route, str(status))
    child.observe(seconds)


_sent_children: dict[str, Counter] = {}
_received_children: dict[str, Counter] = {}


def _child(children: dict[str, Counter], parent: Counter, session_id: str) -> Counter:
    child = children.get(session_id)
    if child is None:
        child = children[session_id] = parent.labels(session_id)
    return child


def message_sent(session_id: str) -> None:
    _child(_sent_children, MESSAGES_SENT, session_id).inc()


def messages_received(session_id: str, count: int = 1) -> None:
    _child(_received_children, MESSAGES_RECEIVED, session_id).inc(count)


def forget_session(session_id: str) -> None:
    """A deleted session's series go away with it."""
    for children, parent in (
        (_sent_children, MESSAGES_SENT),
        (_received_children, MESSAGES_RECEIVED),
    ):
        if children.pop(session_id, None) is not None:
            _remove(parent, session_id)


def _remove(parent: MetricWrapperBase, *labels: str) -> None:
    try:
        parent.remove(*labels)
    except KeyError:
        return


def webhook_attempt(outcome: str, recorded_at: datetime, attempted_at: datetime) -> None:
    """`outcome`: the delivery's status after the attempt (succeeded, pending, failed)."""
    WEBHOOK_ATTEMPTS.labels("retrying" if outcome == "pending" else outcome).inc()
    if outcome == "succeeded":
        WEBHOOK_LAG.observe(max(0.0, (attempted_at - recorded_at).total_seconds()))
