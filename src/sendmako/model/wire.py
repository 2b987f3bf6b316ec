"""Our values as JSON and back, for what crosses a process boundary: the frames between the
server and a neonize worker, the calls between nodes.

A codec is built from the types that may cross (`WireCodec(roots)`): every dataclass and
enum those are made of, followed through their fields' annotations, and only those decode,
so a message can never name an arbitrary class. Values are tagged:

    {"$t": "GetGroup", "group": {...}}     a dataclass (tuples inside come back as tuples)
    {"$e": "MessageStatus", "v": "read"}   an enum member
    {"$b": "<base64>"}                      bytes
    {"$dt": "2026-12-07T10:00:00+00:00"}    a datetime
    {"$d": {...}}                           a dict with string keys
"""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Iterable
from datetime import datetime
from enum import Enum
from types import UnionType
from typing import Any, get_args, get_origin, get_type_hints


class WireFormatError(Exception):
    """Data that does not follow the format (a bug, or a peer gone mad)."""


def wire_types(roots: Iterable[Any]) -> tuple[dict[str, type[Any]], dict[str, type[Enum]]]:
    """Every dataclass and enum the `roots` are made of, followed through their fields'
    annotations (containers and unions included), by class name."""
    classes: dict[str, type[Any]] = {}
    enums: dict[str, type[Enum]] = {}
    pending = list(roots)
    while pending:
        kind = pending.pop()
        if get_origin(kind) is not None or isinstance(kind, UnionType):
            pending.extend(get_args(kind))
        elif isinstance(kind, type) and issubclass(kind, Enum):
            enums[kind.__name__] = kind
        elif isinstance(kind, type) and dataclasses.is_dataclass(kind):
            if classes.setdefault(kind.__name__, kind) is not kind:
                raise TypeError(f"two wire types are named {kind.__name__}")
            pending.extend(
                hint for hint in get_type_hints(kind).values() if hint not in classes.values()
            )
    return classes, enums


class WireCodec:
    def __init__(self, roots: Iterable[Any]) -> None:
        self.classes, self.enums = wire_types(roots)

    def encode(self, value: Any) -> Any:  # noqa: PLR0911 - one case per tag
        """`value` as JSON-ready data."""
        if isinstance(value, Enum):  # before str: our enums are StrEnums
            return {"$e": type(value).__name__, "v": value.value}
        if value is None or isinstance(value, bool | int | float | str):
            return value
        if isinstance(value, bytes):
            return {"$b": base64.b64encode(value).decode("ascii")}
        if isinstance(value, datetime):
            return {"$dt": value.isoformat()}
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            name = type(value).__name__
            if self.classes.get(name) is not type(value):
                raise TypeError(f"{name} is not a wire type")
            fields = dataclasses.fields(value)
            return {"$t": name, **{f.name: self.encode(getattr(value, f.name)) for f in fields}}
        if isinstance(value, list | tuple):
            return [self.encode(item) for item in value]
        if isinstance(value, dict):
            return {"$d": {str(key): self.encode(item) for key, item in value.items()}}
        raise TypeError(f"cannot encode {type(value).__name__}")

    def decode(self, data: Any) -> Any:  # noqa: PLR0911, PLR0912 - one case per tag
        """The inverse of `encode`. Arrays come back as lists, and as tuples inside our
        dataclasses (whose sequence fields are all tuples)."""
        if data is None or isinstance(data, bool | int | float | str):
            return data
        if isinstance(data, list):
            return [self.decode(item) for item in data]
        if not isinstance(data, dict):
            raise WireFormatError(f"unexpected JSON value {type(data).__name__}")
        if "$b" in data:
            return base64.b64decode(data["$b"])
        if "$dt" in data:
            return datetime.fromisoformat(data["$dt"])
        if "$e" in data:
            enum = self.enums.get(data["$e"])
            if enum is None:
                raise WireFormatError(f"unknown enum {data['$e']!r}")
            return enum(data["v"])
        if "$d" in data:
            return {key: self.decode(item) for key, item in data["$d"].items()}
        if "$t" in data:
            cls = self.classes.get(data["$t"])
            if cls is None:
                raise WireFormatError(f"unknown type {data['$t']!r}")
            values = {}
            for key, item in data.items():
                if key != "$t":
                    decoded = self.decode(item)
                    values[key] = tuple(decoded) if isinstance(decoded, list) else decoded
            try:
                return cls(**values)
            except TypeError as exc:
                raise WireFormatError(f"bad fields for {cls.__name__}: {exc}") from exc
        raise WireFormatError("untagged JSON object")
