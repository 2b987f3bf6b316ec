"""The client's exceptions. Every answer that is not a success becomes an `ApiError` that
carries the API's `code` and `message` (and the HTTP status); transport failures stay
httpx's own exceptions, so a caller can tell "the server said no" from "nobody answered".

    ApiError                 any error answer: status, code, message, field, retry_after
    ├── BadRequest           400, 413 (the message names the field)
    ├── Unauthorized         401
    ├── Forbidden            403 (plan limit, disabled account, not an admin)
    ├── NotFound             404
    ├── OperationFailed      422
    ├── RateLimited          429 (retry_after from Retry-After)
    ├── NotSupported         501
    └── Unavailable          503 (retry_after when the server gives one)
"""

from __future__ import annotations

from typing import Any

import httpx


class ApiError(Exception):
    """The server answered with an error. `code` is the API's stable code (`not_found`,
    `plan_limit`, ...), `message` its sentence for a human."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        field: str | None = None,
        retry_after: float | None = None,
        body: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.retry_after = retry_after
        self.body = body or {}


class BadRequest(ApiError):
    pass


class Unauthorized(ApiError):
    pass


class Forbidden(ApiError):
    pass


class NotFound(ApiError):
    pass


class OperationFailed(ApiError):
    pass


class RateLimited(ApiError):
    pass


class NotSupported(ApiError):
    pass


class Unavailable(ApiError):
    pass


_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequest,
    413: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    422: OperationFailed,
    429: RateLimited,
    501: NotSupported,
    503: Unavailable,
}


def raise_for(response: httpx.Response) -> None:
    """Raise the `ApiError` an error answer stands for; return on a success."""
    if response.is_success:
        return
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        # Not our JSON (a proxy's page, say): keep what it said, briefly.
        body = {"message": response.text[:200] or response.reason_phrase}
    message = str(body.get("message") or response.reason_phrase)
    code = str(body.get("code") or f"http_{response.status_code}")
    field = body.get("field")
    kind = _BY_STATUS.get(response.status_code, ApiError)
    raise kind(
        response.status_code,
        code,
        message,
        field=field if isinstance(field, str) else None,
        retry_after=_retry_after(response.headers.get("retry-after")),
        body=body,
    )


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None  # an HTTP date: rare from us, and the message says when anyway
