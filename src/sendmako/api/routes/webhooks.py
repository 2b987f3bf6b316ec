"""`/api/webhooks`: a user's endpoints, test events, the delivery log, redelivery."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from sendmako.api.deps import CurrentUser, RowId, ServicesDep
from sendmako.api.routes.responses import errors
from sendmako.api.schemas.envelopes import SuccessOut
from sendmako.api.schemas.webhooks import (
    DeliveryOut,
    DeliveryPageOut,
    RedeliverOut,
    TestOut,
    WebhookIn,
    WebhookListOut,
    WebhookOneOut,
    WebhookOut,
    WebhookPatchIn,
)
from sendmako.webhooks.endpoints import EndpointChange

router = APIRouter(prefix="/api/webhooks", tags=["webhooks"])


@router.get("", responses=errors())
async def list_webhooks(user: CurrentUser, services: ServicesDep) -> WebhookListOut:
    return WebhookListOut(webhooks=[WebhookOut.of(e) for e in await services.webhooks.of(user)])


@router.post("", status_code=201, responses=errors())
async def create_webhook(
    body: WebhookIn, user: CurrentUser, services: ServicesDep
) -> WebhookOneOut:
    """A new endpoint; the answer holds its signing secret (shown now and on rotation)."""
    created = await services.webhooks.create(
        user,
        url=body.url,
        enabled=body.enabled,
        events=body.events,
        session_ids=body.session_ids,
        description=body.description,
    )
    return WebhookOneOut(webhook=WebhookOut.of(created), secret=created.secret)


@router.get("/{webhook_id}", responses=errors(404))
async def get_webhook(webhook_id: RowId, user: CurrentUser, services: ServicesDep) -> WebhookOneOut:
    return WebhookOneOut(webhook=WebhookOut.of(await services.webhooks.get(user, webhook_id)))


@router.patch("/{webhook_id}", responses=errors(404))
async def update_webhook(
    webhook_id: RowId, body: WebhookPatchIn, user: CurrentUser, services: ServicesDep
) -> WebhookOneOut:
    given = body.model_fields_set
    updated = await services.webhooks.update(
        user,
        webhook_id,
        EndpointChange(
            url=body.url,
            enabled=body.enabled,
            events=body.events,
            session_ids=body.session_ids,
            description=body.description,
            clear_events="events" in given and body.events is None,
            clear_sessions="session_ids" in given and body.session_ids is None,
            rotate_secret=body.rotate_secret,
        ),
    )
    return WebhookOneOut(
        webhook=WebhookOut.of(updated), secret=updated.secret if body.rotate_secret else None
    )


@router.delete("/{webhook_id}", responses=errors(404))
async def delete_webhook(webhook_id: RowId, user: CurrentUser, services: ServicesDep) -> SuccessOut:
    await services.webhooks.delete(user, webhook_id)
    return SuccessOut()


@router.post("/{webhook_id}/test", responses=errors(404, 429))
async def test_webhook(webhook_id: RowId, user: CurrentUser, services: ServicesDep) -> TestOut:
    """Send a signed `webhook.test` event now and answer what the endpoint replied."""
    return TestOut.of(await services.webhooks.send_test(user, webhook_id))


@router.get("/{webhook_id}/deliveries", responses=errors(404))
async def deliveries(
    webhook_id: RowId,
    user: CurrentUser,
    services: ServicesDep,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=200)] = 50,
) -> DeliveryPageOut:
    """Newest first, each with every attempt (status, latency, the answer's first bytes)."""
    total, found = await services.webhooks.deliveries(
        user, webhook_id, page=page, per_page=per_page
    )
    return DeliveryPageOut(
        total=total, page=page, per_page=per_page, deliveries=[DeliveryOut.of(d) for d in found]
    )


@router.post("/deliveries/{delivery_id}/redeliver", responses=errors(404))
async def redeliver(delivery_id: RowId, user: CurrentUser, services: ServicesDep) -> RedeliverOut:
    """Queue the delivery again (same event id), e.g. after it failed."""
    return RedeliverOut(
        delivery=DeliveryOut.of(await services.webhooks.redeliver(user, delivery_id))
    )
