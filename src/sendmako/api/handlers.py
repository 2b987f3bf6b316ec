"""Exception handlers: every error leaves as `{"success": false, "message", "code"}`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from sendmako.errors import SendmakoError, TooManyRequests, Unavailable

_LOCATIONS = frozenset({"body", "query", "path", "header", "cookie"})
_STATUS_CODES = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}


def error_response(
    status: int, message: str, code: str, *, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body = {"success": False, "message": message, "code": code, **extra}
    return JSONResponse(body, status_code=status, headers=headers)


def field_name(loc: Sequence[str | int]) -> str:
    """`("body", "recipients", 3, "to")` -> `recipients[3].to`."""
    name = ""
    for part in loc:
        if isinstance(part, int):
            name += f"[{part}]"
        elif part not in _LOCATIONS or name:
            name += f".{part}" if name else part
    return name


def describe(error: dict[str, Any]) -> tuple[str, str]:  # noqa: PLR0911 - one case per kind
    """The field and a message naming it, for one pydantic error."""
    field = field_name(error.get("loc", ()))
    kind = error.get("type", "")
    if kind == "json_invalid":
        detail = error.get("ctx", {}).get("error", "invalid JSON")
        return "body", f"Malformed JSON body: {detail}."
    if not field:
        if kind == "missing":
            return "body", "The request needs a JSON body."
        if isinstance(error.get("input"), bytes):
            # FastAPI leaves the body unparsed when Content-Type is not JSON (curl -d sends
            # application/x-www-form-urlencoded unless told otherwise).
            return (
                "body",
                "Send the body as JSON, with the header `Content-Type: application/json`.",
            )
        if kind in ("model_attributes_type", "dict_type", "model_type"):
            return "body", "The request body must be a JSON object."
        return "body", _sentence(str(error.get("msg", "invalid request")))
    if kind == "missing":
        return field, f"{field}: this field is required."
    if kind == "extra_forbidden":
        return field, f"{field}: unknown field."
    message = _sentence(str(error.get("msg", "invalid value")))
    return field, f"{field}: {message[0].lower() + message[1:]}"


def _sentence(message: str) -> str:
    message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    message = message[:1].upper() + message[1:]
    return message if message.endswith(".") else message + "."


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    described = [describe(dict(error)) for error in exc.errors()]
    field, message = described[0]
    return error_response(
        400,
        message,
        "invalid_request",
        field=field,
        errors=[{"field": f, "message": m} for f, m in described],
    )


async def _sendmako_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SendmakoError)
    headers = None
    if isinstance(exc, TooManyRequests | Unavailable) and exc.retry_after is not None:
        headers = {"Retry-After": str(max(1, round(exc.retry_after + 0.4999)))}
    extra: dict[str, Any] = {}
    field = getattr(exc, "field", None)
    if field:
        extra["field"] = field
    return error_response(exc.status, exc.message, exc.code, headers=headers, **extra)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    # FastAPI turns any error raised while reading the body into a generic 400; the body
    # limit's own error (413) is the cause worth reporting.
    if isinstance(exc.__cause__, SendmakoError):
        return await _sendmako_error(request, exc.__cause__)
    code = _STATUS_CODES.get(exc.status_code, "http_error")
    message = "Not found." if exc.status_code == 404 else str(exc.detail)
    headers = dict(exc.headers) if exc.headers else None
    return error_response(exc.status_code, message, code, headers=headers)


async def render_error(request: Request, exc: SendmakoError) -> JSONResponse:
    """The API's answer for one of our errors (for code outside FastAPI's handlers)."""
    return await _sendmako_error(request, exc)


async def render_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    return await _validation_error(request, exc)


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(SendmakoError, _sendmako_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
