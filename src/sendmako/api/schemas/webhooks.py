"""Bodies of /api/webhooks."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from sendmako.model.statuses import DeliveryStatus
from sendmako.storage.webhooks import DeliveryRecord, EndpointRecord, Outcome

Url = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2048)]


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: Url
    events: list[str] | None = Field(
        None, description="events to receive; omit or null for all", examples=[["message.received"]]
    )
    session_ids: list[str] | None = Field(None, description="only these sessions; null for all")
    enabled: bool = True
    description: Annotated[str, StringConstraints(max_length=200)] | None = None


class WebhookPatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: Url | None = None
    events: list[str] | None = Field(None, description="null (explicitly) for all events")
    session_ids: list[str] | None = Field(None, description="null (explicitly) for all sessions")
    enabled: bool | None = None
    description: Annotated[str, StringConstraints(max_length=200)] | None = None
    rotate_secret: bool = Field(False, description="make a new secret (shown in the answer)")


class WebhookOut(BaseModel):
    id: int
    url: str
    enabled: bool
    events: list[str] | None
    session_ids: list[str] | None
    description: str | None
    secret_hint: str = Field(description="the secret's last characters")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, record: EndpointRecord) -> WebhookOut:
        return cls(
            id=record.id,
            url=record.url,
            enabled=record.enabled,
            events=list(record.events) if record.events is not None else None,
            session_ids=list(record.session_ids) if record.session_ids is not None else None,
            description=record.description,
            secret_hint="…" + record.secret[-4:],
            created_at=record.created_at,
            updated_at=record.updated_at,
        )


class WebhookListOut(BaseModel):
    success: Literal[True] = True
    webhooks: list[WebhookOut]


class WebhookOneOut(BaseModel):
    success: Literal[True] = True
    webhook: WebhookOut
    secret: str | None = Field(
        None, description="the signing secret: on creation and rotation only"
    )


class AttemptOut(BaseModel):
    attempted_at: datetime
    status_code: int | None
    latency_ms: int
    error: str | None
    response_excerpt: str | None


class DeliveryOut(BaseModel):
    id: int
    event_id: str
    event: str
    session_id: str | None
    status: str = Field(description="pending, succeeded or failed")
    attempts: int
    next_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    created_at: datetime
    finished_at: datetime | None
    attempt_log: list[AttemptOut]

    @classmethod
    def of(cls, record: DeliveryRecord) -> DeliveryOut:
        return cls(
            id=record.id,
            event_id=record.event_id,
            event=record.event_name,
            session_id=record.session_id,
            status=record.status,
            attempts=record.attempts,
            next_attempt_at=record.next_attempt_at
            if record.status == DeliveryStatus.PENDING
            else None,
            last_status=record.last_status,
            last_error=record.last_error,
            created_at=record.created_at,
            finished_at=record.finished_at,
            attempt_log=[
                AttemptOut(
                    attempted_at=a.attempted_at,
                    status_code=a.status_code,
                    latency_ms=a.latency_ms,
                    error=a.error,
                    response_excerpt=a.response_excerpt,
                )
                for a in record.attempt_log
            ],
        )


class DeliveryPageOut(BaseModel):
    success: Literal[True] = True
    total: int
    page: int
    per_page: int
    deliveries: list[DeliveryOut]


class RedeliverOut(BaseModel):
    success: Literal[True] = True
    delivery: DeliveryOut


class TestOut(BaseModel):
    success: bool = Field(description="true when the endpoint answered 2xx")
    delivered: bool
    status_code: int | None
    latency_ms: int
    error: str | None
    response_excerpt: str | None

    @classmethod
    def of(cls, outcome: Outcome) -> TestOut:
        delivered = outcome.status == DeliveryStatus.SUCCEEDED
        return cls(
            success=delivered,
            delivered=delivered,
            status_code=outcome.status_code,
            latency_ms=outcome.latency_ms,
            error=outcome.error,
            response_excerpt=outcome.response_excerpt,
        )
