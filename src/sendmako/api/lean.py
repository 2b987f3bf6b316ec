"""For the few routes where FastAPI's per-request machinery costs more than the work: the
body validated by pydantic directly, errors in the same 400 shape, the schema still in
OpenAPI."""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, TypeAdapter, ValidationError

Model = TypeVar("Model")


def validated(adapter: TypeAdapter[Model], body: bytes, content_type: str | None) -> Model:
    """`body` parsed and validated, or the same 400 as any other route's invalid body: a
    body sent as something other than JSON too (FastAPI's rule: no Content-Type, or
    application/json or application/*+json, with any parameters)."""
    if not body:
        raise RequestValidationError([{"type": "missing", "loc": ("body",), "msg": "missing"}])
    if content_type and not _is_json(content_type):
        # The shape FastAPI gives a body it left unparsed: handlers.describe explains it.
        raise RequestValidationError(
            [{"type": "model_attributes_type", "loc": ("body",), "msg": "", "input": body}]
        )
    try:
        return adapter.validate_json(body)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]
        ) from exc


def request_body(model: type[BaseModel]) -> dict[str, Any]:
    """The OpenAPI requestBody of a route that reads its body itself."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": schema}},
        }
    }


def _is_json(content_type: str) -> bool:
    kind = content_type.split(";", 1)[0].strip().lower()
    main, _, sub = kind.partition("/")
    return main == "application" and (sub == "json" or sub.endswith("+json"))
