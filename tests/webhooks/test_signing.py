"""Signatures the original's verification snippets accept, as they are written."""

from __future__ import annotations

import hashlib
import hmac
import json
import shutil
import subprocess

import pytest

from sendmako.webhooks import signing
from sendmako.webhooks.outbox import envelope

SECRET = "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2Vj"


# Copied verbatim from the original documentation ("Vérifier les signatures", Python).
def verify_signature(payload_body: bytes, signature_header: str, secret: str) -> bool:
    expected = "sha256=" + hmac.new(secret.encode(), payload_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature_header)


# The original's Node function, verbatim, and its Express usage: it verifies
# JSON.stringify(req.body), i.e. the parsed body serialised again.
NODE_CHECK = r"""
const crypto = require('crypto');
function verifySignature(payload, signature, secret) {
const expected = 'sha256=' + crypto
.createHmac('sha256', secret)
.update(payload)
.digest('hex');
return crypto.timingSafeEqual(Buffer.from(expected), Buffer.from(signature));
}
const [body, sig, secret] = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const req = { body: JSON.parse(body) };
process.stdout.write(verifySignature(JSON.stringify(req.body), sig, secret) ? 'ok' : 'bad');
"""


def sample_body() -> str:
    from datetime import UTC, datetime

    return envelope(
        "evt_1",
        "message.received",
        "user_1",
        {
            "message_id": "3EB043CFB548568C7532C1",
            "from": "22241857975",
            "sender_name": "Aïssata — équipe ✓",
            "type": "locationMessage",
            "body": 'line\nbreak "quoted" </script>',
            "timestamp": 1711209600,
            "location": {"latitude": 14.0, "longitude": -17.4467},
        },
        datetime(2026, 3, 23, 17, 0, tzinfo=UTC),
    )


def test_body_is_written_as_json_stringify_writes_it() -> None:
    body = sample_body()
    assert body.startswith('{"event":"message.received","timestamp":"2026-03-23T17:00:00Z",')
    assert '"latitude":14,' in body, "an integral float loses its .0, as in JavaScript"
    assert "Aïssata — équipe ✓" in body, "non-ASCII stays UTF-8"
    assert ": " not in body
    assert body.endswith(',"id":"evt_1"}')
    assert json.loads(body)["data"]["from"] == "22241857975"


def test_keys_javascript_would_reorder_are_refused() -> None:
    with pytest.raises(ValueError, match="reordered"):
        signing.body({"data": {"1": "x"}})


def test_the_original_python_snippet_accepts_our_signature() -> None:
    body = sample_body().encode()
    header = signing.sendmako_signature(SECRET, body)
    assert verify_signature(body, header, SECRET)
    assert not verify_signature(body + b" ", header, SECRET)
    assert not verify_signature(body, header, SECRET + "x")


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_the_original_node_snippet_accepts_our_signature() -> None:
    body = sample_body()
    header = signing.sendmako_signature(SECRET, body.encode())
    run = subprocess.run(
        ["node", "-e", NODE_CHECK],
        input=json.dumps([body, header, SECRET]),
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    assert run.stdout == "ok"


# The original's PHP snippet as written, fed the body, header and secret on stdin.
PHP_CHECK = r"""
function verifySignature(string $payload, string $signature, string $secret): bool {
$expected = 'sha256=' . hash_hmac('sha256', $payload, $secret);
return hash_equals($expected, $signature);
}
[$payload, $sig, $secret] = json_decode(file_get_contents('php://stdin'), true);
echo verifySignature($payload, $sig, $secret) ? 'ok' : 'bad';
"""


@pytest.mark.skipif(shutil.which("php") is None, reason="PHP is absent (.ci/run installs it)")
@pytest.mark.parametrize(("tamper", "expected"), [(False, "ok"), (True, "bad")])
def test_the_original_php_snippet_accepts_our_signature(tamper: bool, expected: str) -> None:
    body = sample_body()
    header = signing.sendmako_signature(SECRET, body.encode())
    run = subprocess.run(
        ["php", "-r", PHP_CHECK],
        input=json.dumps([body + (" " if tamper else ""), header, SECRET]),
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    assert run.stdout == expected


def test_standard_webhooks_signature() -> None:
    """`v1,` + base64 HMAC of `id.timestamp.body`, keyed with the decoded whsec_ secret."""
    body = sample_body().encode()
    headers = signing.headers(
        secret=SECRET,
        event_id="evt_1",
        event_name="message.received",
        timestamp=1711209600,
        body_bytes=body,
    )
    assert headers["webhook-id"] == headers["X-Sendmako-Delivery"] == "evt_1"
    assert signing.verify_standard(SECRET, headers, body)
    assert not signing.verify_standard(SECRET, {**headers, "webhook-timestamp": "1711209601"}, body)
    import base64

    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    expected = base64.b64encode(
        hmac.new(key, b"evt_1.1711209600." + body, hashlib.sha256).digest()
    ).decode()
    assert headers["webhook-signature"] == f"v1,{expected}"


def test_secrets_are_random_and_prefixed() -> None:
    first, second = signing.new_secret(), signing.new_secret()
    assert first.startswith("whsec_")
    assert first != second
