"""Bodies of /api/whatsapp/sessions."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any, Literal

from pydantic import (
    BaseModel,
    Field,
    model_validator,
)

from sendmako.api.schemas.envelopes import Name, Request
from sendmako.model.restrictions import Restriction, RestrictionKind
from sendmako.model.send_policy import SendPolicy
from sendmako.model.statuses import SessionStatus
from sendmako.sessions.state import Health, SessionChange, SessionView


class SendPolicyOut(BaseModel):
    """README "Not getting banned" says what each rule protects against."""

    min_delay_ms: int = Field(description="a random delay between two sends, at least this")
    max_delay_ms: int = Field(description="and at most this")
    per_hour: int | None = Field(description="messages an hour at most (null: no cap)")
    per_day: int | None = Field(description="messages in 24 hours at most (null: no cap)")
    new_contacts_per_day: int | None = Field(
        description="numbers never talked to, written to in 24 hours at most (null: no cap)"
    )
    warmup: bool = Field(description="a small daily cap for a week after linking, growing")
    same_text_new_contacts: int | None = Field(
        description="one same text to at most this many new contacts in 24 hours (null: no cap)"
    )
    typing: bool = Field(description="`composing` before a text, longer for a longer text")

    @classmethod
    def of(cls, policy: SendPolicy) -> SendPolicyOut:
        return cls(**asdict(policy))


class RestrictionOut(BaseModel):
    kind: RestrictionKind
    code: int = Field(description="WhatsApp's: 101-106 for a temporary ban, 463 for new contacts")
    until: datetime | None = Field(description="when it lifts by itself")
    reason: str = Field(description="in plain words")

    @classmethod
    def of(cls, restriction: Restriction | None) -> RestrictionOut | None:
        if restriction is None:
            return None
        return cls(
            kind=restriction.kind,
            code=restriction.code,
            until=restriction.until,
            reason=restriction.reason,
        )


class HealthOut(BaseModel):
    last_inbound_at: float | None = Field(description="unix time WhatsApp last told it anything")
    last_outbound_at: float | None = Field(description="unix time it last sent")
    reconnects_24h: int = Field(description="reconnections of a deaf connection in 24 hours")

    @classmethod
    def of(cls, health: Health | None) -> HealthOut:
        health = health or Health()
        return cls(**asdict(health))


class HistorySyncOut(BaseModel):
    """How far the history the phone sends at first link has come."""

    progress: int | None = Field(description="percent, as WhatsApp reports it")
    chats: int = Field(description="conversations received so far")
    messages: int = Field(description="messages stored so far (old ones: no webhooks)")
    updated_at: datetime = Field(description="when the last chunk arrived")


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
    reject_calls: bool = Field(description="calls are refused as they ring")
    reject_calls_message: str | None = Field(description="sent to a caller after a refusal")
    history_sync: HistorySyncOut | None = Field(
        None, description="one session's view only: the history sync's progress (null: none yet)"
    )
    send_policy: SendPolicyOut
    restriction: RestrictionOut | None = Field(
        description="WhatsApp's restriction on the number now (null: none)"
    )
    health: HealthOut

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
            reject_calls=view.reject_calls,
            reject_calls_message=view.reject_calls_message,
            send_policy=SendPolicyOut.of(view.send_policy),
            restriction=RestrictionOut.of(view.restriction),
            health=HealthOut.of(view.health),
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
    """Any of the session's settings; those left out stay as they are."""

    session_name: Name | None = None
    pacing_ms: int | None = Field(
        None, ge=0, le=600_000, description="minimum milliseconds between two sends"
    )
    reject_calls: bool | None = Field(None, description="refuse every call as it rings")
    reject_calls_message: str | None = Field(
        None, max_length=4096, description='sent to the caller after a refusal ("": none)'
    )
    send_policy: dict[str, Any] | None = Field(
        None,
        description="only the policy's fields to change (see `send_policy` in the session)",
        examples=[{"per_day": 300, "typing": False}],
    )

    @model_validator(mode="after")
    def _something(self) -> RenameSessionIn:
        if not self.model_fields_set:
            raise ValueError(
                "give at least one of session_name, pacing_ms, reject_calls, "
                "reject_calls_message, send_policy"
            )
        return self

    def change(self) -> SessionChange:
        return SessionChange(
            session_name=self.session_name,
            pacing_ms=self.pacing_ms,
            reject_calls=self.reject_calls,
            reject_calls_message=self.reject_calls_message,
            send_policy=self.send_policy,
        )


class RenameSessionOut(BaseModel):
    success: Literal[True] = True
    session_name: str
    pacing_ms: int
    reject_calls: bool
    reject_calls_message: str | None
    send_policy: SendPolicyOut


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
