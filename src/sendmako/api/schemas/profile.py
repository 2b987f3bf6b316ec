"""Bodies of /api/profile."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sendmako.api.schemas.envelopes import Request


class ProfileOut(BaseModel):
    success: Literal[True] = True
    session_id: str
    phone_number: str
    name: str | None = Field(description="the name contacts see")
    about: str | None
    picture_url: str | None


class ProfileIn(Request):
    name: str | None = Field(None, min_length=1, max_length=25, description="WhatsApp: 25 at most")
    about: str | None = Field(None, max_length=139, description="WhatsApp: 139 at most")
    session_id: str | None = None

    @model_validator(mode="after")
    def _something(self) -> ProfileIn:
        if self.name is None and self.about is None:
            raise ValueError("give name, about or both")
        return self


class ProfilePictureIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    image_url: str | None = Field(None, alias="imageUrl", max_length=4096)
    image_base64: str | None = Field(None, alias="imageBase64")
    session_id: str | None = None
