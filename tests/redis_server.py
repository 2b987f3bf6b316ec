"""The Redis the cluster tests talk to: SENDMAKO_TEST_REDIS_URL (.ci/run sets it, and fails
when Redis is not there). Each test gets key prefixes of its own, so tests run side by side
on one server."""

from __future__ import annotations

import os
import secrets

import pytest

REDIS_ENV = "SENDMAKO_TEST_REDIS_URL"


def redis_url() -> str | None:
    return os.environ.get(REDIS_ENV) or None


def require_redis() -> str:
    url = redis_url()
    if url is None:
        pytest.skip(f"Cluster tests need {REDIS_ENV} (.ci/run sets it)")
    return url


def fresh_prefix() -> str:
    return f"sendmako-test-{secrets.token_hex(4)}"
