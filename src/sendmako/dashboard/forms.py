"""Reading the dashboard's HTML forms: the CSRF check, typed fields, messages naming the field.

Every POST handler gets its fields through `CheckedForm`, the only way to the form data:
a handler cannot forget the CSRF check.
"""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends
from starlette.datastructures import FormData, UploadFile

from sendmako.dashboard.i18n import Translator
from sendmako.dashboard.visit import Visit, Visitor
from sendmako.errors import BadRequest, Forbidden, SendmakoError

CSRF_FIELD = "csrf_token"


@dataclass
class Form:
    data: FormData
    t: Translator
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def raw(self, name: str) -> str:
        value = self.data.get(name)
        return value.strip() if isinstance(value, str) else ""

    def text(self, name: str, label: str, *, required: bool = True, max_length: int = 100) -> str:
        value = self.raw(name)
        if required and not value:
            self.errors[name] = self.t("form.required", field=label)
        elif len(value) > max_length:
            self.errors[name] = self.t("form.too_long", field=label, max=max_length)
        return value

    def limit(self, name: str, label: str) -> int | None:
        """A non-negative whole number; empty means unlimited (None)."""
        value = self.raw(name)
        if not value:
            return None
        if not value.isdigit() or len(value) > 9:
            self.errors[name] = self.t("form.not_a_count", field=label)
            return None
        return int(value)

    def flag(self, name: str) -> bool:
        return self.raw(name) in ("on", "1", "true")

    def choice(self, name: str, label: str, options: list[str]) -> str:
        value = self.raw(name)
        if value not in options:
            self.errors[name] = self.t("form.choose", field=label, options=", ".join(options))
        return value

    def choices(self, name: str, label: str, options: list[str]) -> list[str]:
        """The ticked checkboxes named `name`, in the order of `options`."""
        ticked = {value for value in self.data.getlist(name) if isinstance(value, str)}
        unknown = sorted(ticked - set(options))
        if unknown:  # a tampered form, or a choice that went away while the page was open
            self.errors[name] = self.t("form.not_offered", field=label, value=unknown[0])
        return [option for option in options if option in ticked]

    def file(self, name: str) -> UploadFile | None:
        """The uploaded file, or None when none was chosen (browsers then send an empty
        part without a file name)."""
        value = self.data.get(name)
        if not isinstance(value, UploadFile) or not value.filename:
            return None
        return value

    def refuse(self, name: str, message: str) -> None:
        self.errors[name] = message


async def checked_form(visit: Visitor) -> AsyncIterator[Form]:
    data = await visit.request.form()
    try:
        token = data.get(CSRF_FIELD)
        if not isinstance(token, str) or not hmac.compare_digest(
            token.encode(), visit.cookie.csrf.encode()
        ):
            raise Forbidden("CSRF token missing or wrong.", code="csrf")
        yield Form(data=data, t=visit.t)
    finally:
        await data.close()  # uploads are spooled to temporary files: remove them


CheckedForm = Annotated[Form, Depends(checked_form)]


def error_text(visit: Visit, exc: SendmakoError) -> str:
    """A service's error in the visitor's language when the catalogue knows its code;
    otherwise the service's own message (which names the field). The generic code of a
    `BadRequest` says less than its message (why the field is refused), so it never wins."""
    if exc.code == BadRequest.code:
        return exc.message
    key = f"error.{exc.code}"
    translated = visit.t(key)
    return exc.message if translated == key else translated


def field_of(exc: SendmakoError) -> str:
    return (exc.field if isinstance(exc, BadRequest) else None) or "form"
