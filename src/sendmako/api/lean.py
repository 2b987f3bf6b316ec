"""For the few routes where FastAPI's per-request machinery costs more than the work: the
body validated by pydantic directly, errors in the same 400 shape, the schema still in
OpenAPI."""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, TypeAdapter, ValidationError

Model = TypeVar("Model")


def validated(adapter: TypeAdapter[Model], body: bytes) -> Model:
    """`body` parsed and validated, or the same 400 as any other route's invalid body."""
    if not body:
        raise RequestValidationError([{"type": "missing", "loc": ("body",), "msg": "missing"}])
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
