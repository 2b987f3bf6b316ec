"""The body of /api/decrypt-media."""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
)

from sendmako.errors import BadRequest
from sendmako.media import b64
from sendmako.media.crypto import DIGEST_LENGTH, KEY_LENGTH, MediaType
from sendmako.media.decrypt import DecryptRequest
from sendmako.media.fetch import WHATSAPP_MEDIA_ORIGIN


def _base64_of(length: int) -> AfterValidator:
    def check(value: str) -> str:
        decoded = b64.decode(value)
        if len(decoded) != length:
            raise ValueError(f"must be {length} bytes of base64, got {len(decoded)}")
        return value

    return AfterValidator(check)


def _size(value: int | str | None) -> int | None:
    # WhatsApp's uint64 sizes often arrive as strings ("fileSize": "122866").
    if isinstance(value, str):
        if not value.strip().isdigit():
            raise ValueError("must be a whole number of bytes")
        return int(value)
    if value is not None and value < 0:
        raise ValueError("must be a whole number of bytes")
    return value


Key32 = Annotated[str, _base64_of(KEY_LENGTH)]
Digest = Annotated[str, _base64_of(DIGEST_LENGTH)]
Size = Annotated[int | str | None, AfterValidator(_size)]
Mimetype = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        max_length=255,
        # type/subtype[; params], printable ASCII only: it goes back out as a header.
        pattern=r"^[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+( *;[\x20-\x7e]*)?$",
    ),
]


class DecryptMediaIn(BaseModel):
    # Not `Request` (which refuses unknown fields): the body is usually a webhook's
    # `data.media` forwarded as it is, with fields of its own (width, duration...).
    model_config = ConfigDict(extra="ignore")

    url: str | None = Field(None, examples=["https://mmg.whatsapp.net/v/t62.7118-24/..."])
    direct_path: str | None = Field(
        None, alias="directPath", description="used when `url` is absent"
    )
    media_key: Key32 = Field(alias="mediaKey", description="base64, standard or URL-safe")
    mimetype: Mimetype = Field(description="the Content-Type of the answer")
    file_enc_sha256: Digest = Field(alias="fileEncSha256")
    media_type: MediaType | None = Field(
        None, alias="mediaType", description="the key family; without it, found by the MAC"
    )
    file_sha256: Digest | None = Field(None, alias="fileSha256", description="checked if given")
    file_length: Size = Field(None, alias="fileLength", description="checked if given")
    file_size: Size = Field(None, alias="fileSize", description="the webhook's fileLength")

    def to_request(self) -> DecryptRequest:
        if self.url:
            url, field = self.url, "url"
        elif self.direct_path:
            if not self.direct_path.startswith("/"):
                raise BadRequest("directPath: must start with /.", field="directPath")
            url, field = WHATSAPP_MEDIA_ORIGIN + self.direct_path, "directPath"
        else:
            raise BadRequest("url: this field is required (or give directPath).", field="url")
        length = self.file_length if self.file_length is not None else self.file_size
        assert length is None or isinstance(length, int)  # normalised by _size
        return DecryptRequest(
            url=url,
            field=field,
            media_key=b64.decode(self.media_key),
            mimetype=self.mimetype,
            file_enc_sha256=b64.decode(self.file_enc_sha256),
            media_type=self.media_type,
            file_sha256=None if self.file_sha256 is None else b64.decode(self.file_sha256),
            file_length=length,
        )
