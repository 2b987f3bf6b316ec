"""Bodies of `/api/whatsapp/contacts` and of the sandbox's address-book controls."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from sendmako.api.schemas.envelopes import Request
from sendmako.model.directory import Contact
from sendmako.model.simulation import KnownContact

ContactName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=256)]


class ContactOut(BaseModel):
    id: str = Field(examples=["22241857975@s.whatsapp.net"])
    phone: str = Field(examples=["22241857975"])
    name: str | None = Field(
        description="the best name known: saved in the phone, else chosen by the contact "
        "(push name), else the business name"
    )
    saved_name: str | None
    push_name: str | None
    business_name: str | None

    @classmethod
    def of(cls, contact: Contact) -> ContactOut:
        return cls(
            id=str(contact.jid),
            phone=contact.phone,
            name=contact.name,
            saved_name=contact.saved_name,
            push_name=contact.push_name,
            business_name=contact.business_name,
        )


class ContactListOut(BaseModel):
    success: Literal[True] = True
    session_id: str
    contacts: list[ContactOut]


class SandboxContactIn(Request):
    phone: str = Field(examples=["22241857975"], description="a number in any spelling")
    name: ContactName | None = Field(None, description="the name saved in the address book")


class SandboxContactsIn(Request):
    contacts: list[SandboxContactIn] = Field(max_length=5000)


class SandboxContactOut(BaseModel):
    phone: str
    name: str | None
    push_name: str | None = Field(
        description="of your sandbox session linked to this number, if any"
    )
    on_whatsapp: bool


class SandboxContactsOut(BaseModel):
    success: Literal[True] = True
    session_id: str
    contacts: list[SandboxContactOut]

    @classmethod
    def of(cls, session_id: str, known: list[KnownContact]) -> SandboxContactsOut:
        return cls(
            session_id=session_id,
            contacts=[
                SandboxContactOut(
                    phone=k.phone, name=k.name, push_name=k.push_name, on_whatsapp=k.on_whatsapp
                )
                for k in known
            ],
        )


class CheckNumbersIn(Request):
    numbers: list[Annotated[str, StringConstraints(max_length=64)]] = Field(
        min_length=1, max_length=50, description="1 to 50 numbers, in any spelling"
    )
    session_id: str | None = None


class NumberOut(BaseModel):
    number: str = Field(description="digits with the country code")
    on_whatsapp: bool
    jid: str | None


class CheckNumbersOut(BaseModel):
    success: Literal[True] = True
    session_id: str
    results: list[NumberOut]


class PictureOut(BaseModel):
    success: Literal[True] = True
    session_id: str
    picture_url: str | None = Field(description="null when there is none, or it is hidden")
