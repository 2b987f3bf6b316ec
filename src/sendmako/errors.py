"""The one exception tree. Each error carries a stable code and its HTTP status.

    SendmakoError                    500 internal
    ├── BadRequest                   400 bad_request (names the field)
    │   └── PayloadTooLarge          413 payload_too_large
    ├── Unauthorized                 401 unauthorized
    ├── PlanLimitReached             403 plan_limit
    ├── Forbidden                    403 forbidden
    │   └── AccountDisabled          403 account_disabled
    ├── NotFound                     404 not_found
    ├── RequestTimeout               408 request_timeout (the client sent its request too slowly)
    ├── OperationFailed              422 operation_failed (and more precise codes)
    ├── TooManyRequests              429 rate_limited (carries Retry-After)
    ├── NotSupported                 501 capability_not_supported (the session's engine lacks it)
    └── Unavailable                  503 unavailable (WhatsApp or the session is not reachable)
        └── OutcomeUnknown           503 send_outcome_unknown (sent or not: nobody can tell)

Library errors are translated where they are caught: `raise NotFound(...) from exc`.
The API renders any of them as `{"success": false, "message": ..., "code": ...}`.
"""

from __future__ import annotations


class SendmakoError(Exception):
    status: int = 500
    code: str = "internal"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class BadRequest(SendmakoError):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.field = field


class PayloadTooLarge(BadRequest):
    status = 413
    code = "payload_too_large"


class Unauthorized(SendmakoError):
    status = 401
    code = "unauthorized"


class PlanLimitReached(SendmakoError):
    status = 403
    code = "plan_limit"


class Forbidden(SendmakoError):
    """The caller is known but may not do this (not an admin, account disabled)."""

    status = 403
    code = "forbidden"


class AccountDisabled(Forbidden):
    """The account is disabled: its keys, and any send of its sessions, are refused."""

    code = "account_disabled"


class NotFound(SendmakoError):
    status = 404
    code = "not_found"


class RequestTimeout(SendmakoError):
    """The client sent its request too slowly (a body trickling in): the connection closes."""

    status = 408
    code = "request_timeout"


class OperationFailed(SendmakoError):
    status = 422
    code = "operation_failed"


class TooManyRequests(SendmakoError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: float, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class NotSupported(SendmakoError):
    """The session's engine cannot do this at all (checked before the engine is called)."""

    status = 501
    code = "capability_not_supported"


class Unavailable(SendmakoError):
    status = 503
    code = "unavailable"

    def __init__(
        self, message: str, *, code: str | None = None, retry_after: float | None = None
    ) -> None:
        """`retry_after`: seconds after which asking again may work (a session moving to
        another node), sent as Retry-After."""
        super().__init__(message, code=code)
        self.retry_after = retry_after


class OutcomeUnknown(Unavailable):
    """A message was with the engine when its session stopped: it may have reached WhatsApp
    or not. Never sent again behind the caller's back (a bulk job reports it `unknown`)."""

    code = "send_outcome_unknown"


def to_data(exc: SendmakoError) -> dict[str, object]:
    """`exc` as JSON-ready data, to be raised again in another process (`from_data`)."""
    data: dict[str, object] = {"kind": type(exc).__name__, "message": exc.message, "code": exc.code}
    if isinstance(exc, BadRequest):
        data["field"] = exc.field
    if isinstance(exc, TooManyRequests | Unavailable) and exc.retry_after is not None:
        data["retry_after"] = exc.retry_after
    return data


def from_data(data: dict[str, object]) -> SendmakoError:
    """The error `to_data` described: the same class, message, code (an unknown class comes
    back as a plain `SendmakoError`, a 500)."""
    # Walked at each call: errors defined in other modules subclass the tree too.
    kind = _tree(SendmakoError).get(str(data.get("kind")), SendmakoError)
    message, code = str(data.get("message", "")), str(data.get("code") or "") or None
    if issubclass(kind, TooManyRequests):
        return kind(message, retry_after=float(str(data.get("retry_after") or 1)), code=code)
    if issubclass(kind, Unavailable):
        retry_after = data.get("retry_after")
        return kind(
            message,
            code=code,
            retry_after=float(str(retry_after)) if retry_after is not None else None,
        )
    if issubclass(kind, BadRequest):
        field = data.get("field")
        return kind(message, field=str(field) if field is not None else None, code=code)
    return kind(message, code=code)


def _tree(root: type[SendmakoError]) -> dict[str, type[SendmakoError]]:
    found = {root.__name__: root}
    for sub in root.__subclasses__():
        found.update(_tree(sub))
    return found
