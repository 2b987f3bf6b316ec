"""Request and response bodies of the API (pydantic). Requests refuse unknown fields."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from sendmako.errors import BadRequest
from sendmako.events import SessionStatus
from sendmako.media import b64
from sendmako.media.crypto import DIGEST_LENGTH, KEY_LENGTH, MediaType
from sendmako.media.decrypt import DecryptRequest
from sendmako.media.fetch import WHATSAPP_MEDIA_ORIGIN
from sendmako.session_state import SessionView
from sendmako.storage.records import ApiKeyRecord

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorOut(BaseModel):
    success: Literal[False] = False
    message: str = Field(description="what went wrong, for a human; names the field at fault")
    code: str = Field(description="stable machine-readable error code")


class SuccessOut(BaseModel):
    success: Literal[True] = True


# -- sessions ------------------------------------------------------------------------------


class SessionOut(BaseModel):
    id: int
    session_id: str = Field(examples=["user_1"])
    session_name: str
    status: SessionStatus
    phone_number: str | None = Field(description="digits with country code, once linked")
    qr: str | None = Field(description="data:image/png;base64,... while status is qr_ready")
    engine: str
    pacing_ms: int = Field(description="minimum milliseconds between two sends")
    status_detail: str | None = Field(description="why the session is in this status")
    qr_expires_at: float | None = Field(description="unix time when the shown QR expires")

    @classmethod
    def of(cls, view: SessionView) -> SessionOut:
        return cls(
            id=view.id,
            session_id=view.session_id,
            session_name=view.session_name,
            status=view.status,
            phone_number=view.phone_number,
            qr=view.qr,
            engine=view.engine,
            pacing_ms=view.pacing_ms,
            status_detail=view.detail,
            qr_expires_at=view.qr_expires_at,
        )


class CreateSessionIn(Request):
    session_name: Name | None = Field(None, examples=["Professionnel"])
    engine: str | None = Field(None, description="`sandbox` or `neonize`; default: the server's")


class CreateSessionOut(BaseModel):
    success: Literal[True] = True
    id: int
    session_id: str
    session_name: str
    status: SessionStatus
    engine: str


class RenameSessionIn(Request):
    session_name: Name | None = None
    pacing_ms: int | None = Field(
        None, ge=0, le=600_000, description="minimum milliseconds between two sends"
    )

    @model_validator(mode="after")
    def _something(self) -> RenameSessionIn:
        if self.session_name is None and self.pacing_ms is None:
            raise ValueError("give session_name, pacing_ms or both")
        return self


class RenameSessionOut(BaseModel):
    success: Literal[True] = True
    session_name: str
    pacing_ms: int


class PairCodeIn(Request):
    phone_number: str = Field(examples=["22241857975"], description="the number to link")


class PairCodeOut(BaseModel):
    success: Literal[True] = True
    session_id: str
    pair_code: str = Field(description="8 characters to type in WhatsApp > Linked devices")


class RestartOut(BaseModel):
    success: Literal[True] = True
    session_id: str
    status: SessionStatus


# -- API keys ------------------------------------------------------------------------------


class ApiKeyOut(BaseModel):
    id: int
    prefix: str = Field(description="the first characters of the key, to recognise it")
    name: str | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, record: ApiKeyRecord) -> ApiKeyOut:
        return cls(
            id=record.id,
            prefix=record.prefix,
            name=record.name,
            created_at=record.created_at,
            last_used_at=record.last_used_at,
            revoked_at=record.revoked_at,
        )


class ApiKeyListOut(BaseModel):
    success: Literal[True] = True
    keys: list[ApiKeyOut]


class CreateApiKeyIn(Request):
    name: Name | None = None


class CreateApiKeyOut(BaseModel):
    success: Literal[True] = True
    key: str = Field(description="the whole key: shown this once, never again")
    api_key: ApiKeyOut


class ApiKeyRevokedOut(BaseModel):
    success: Literal[True] = True
    api_key: ApiKeyOut


# -- sandbox control -----------------------------------------------------------------------


class SandboxScanIn(Request):
    phone_number: str | None = Field(None, description="the simulated phone that scans")
    qr: str | None = Field(None, description="the QR payload read; refused once rotated")
    pair_code: str | None = Field(None, description="instead of a scan: the pairing code typed")
    push_name: str | None = Field(None, max_length=100)


class SandboxDisconnectIn(Request):
    reason: Literal["logged_out", "connection_lost"]
    reconnect_after: float | None = Field(
        None, ge=0, le=3600, description="connection_lost: seconds before it comes back"
    )


class SandboxStateOut(BaseModel):
    success: Literal[True] = True
    session_id: str
    status: SessionStatus
    phone_number: str | None


# -- media decryption ----------------------------------------------------------------------


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


# -- health --------------------------------------------------------------------------------


class HealthOut(BaseModel):
    status: Literal["ok", "degraded"]
    database: str
    engines: dict[str, str]
    version: str
