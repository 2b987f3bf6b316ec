"""Webhook signatures and bodies.

Two signatures over the same exact body bytes:
- `X-Sendmako-Signature: sha256=<hex HMAC-SHA256(secret, body)>`, the original's scheme, keyed
  with the secret string's UTF-8 bytes as its Python, Node and PHP snippets do;
- Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>`
  over `id.timestamp.body`, keyed with the base64-decoded part of `whsec_...`).

The original's Node snippet verifies `JSON.stringify(req.body)`, not the raw bytes, so
bodies are written exactly as JSON.stringify would write them back.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import secrets

SECRET_PREFIX = "whsec_"  # noqa: S105 - the Standard Webhooks prefix, not a secret


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def body(payload: dict[str, object]) -> str:
    """JSON as JavaScript's JSON.stringify writes it: no spaces, UTF-8 (no \\u escapes for
    non-ASCII), integral floats without `.0`, and no key that looks like an integer
    (JavaScript would move such keys first)."""
    return json.dumps(_js_compatible(payload), separators=(",", ":"), ensure_ascii=False)


def _js_compatible(value: object) -> object:
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("webhook bodies cannot carry NaN or infinity")
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str) or key.isdigit():
                raise ValueError(f"webhook body key {key!r} would be reordered by JavaScript")
            out[key] = _js_compatible(item)
        return out
    if isinstance(value, list | tuple):
        return [_js_compatible(item) for item in value]
    raise TypeError(f"cannot put {type(value).__name__} in a webhook body")


def sendmako_signature(secret: str, body_bytes: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body_bytes, hashlib.sha256).hexdigest()


def standard_signature(secret: str, message_id: str, timestamp: int, body_bytes: bytes) -> str:
    key = _standard_key(secret)
    signed = f"{message_id}.{timestamp}.".encode() + body_bytes
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def headers(
    *, secret: str, event_id: str, event_name: str, timestamp: int, body_bytes: bytes
) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": "Sendmako-Webhooks/1",
        "X-Sendmako-Event": event_name,
        "X-Sendmako-Delivery": event_id,
        "X-Sendmako-Signature": sendmako_signature(secret, body_bytes),
        "webhook-id": event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": standard_signature(secret, event_id, timestamp, body_bytes),
    }


def verify_standard(secret: str, headers_: dict[str, str], body_bytes: bytes) -> bool:
    """What a receiver using a Standard Webhooks library checks (used by our tests)."""
    expected = standard_signature(
        secret, headers_["webhook-id"], int(headers_["webhook-timestamp"]), body_bytes
    )
    return any(
        hmac.compare_digest(expected, candidate)
        for candidate in headers_["webhook-signature"].split(" ")
    )


def _standard_key(secret: str) -> bytes:
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        return base64.b64decode(encoded, validate=True)
    except ValueError:
        return secret.encode()
