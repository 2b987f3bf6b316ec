"""`/api/send-message` and `/api/send-bulk`."""

from __future__ import annotations

from typing import TypeVar

from fastapi import APIRouter, Request, Response
from pydantic import TypeAdapter

from sendmako.api.deps import CurrentUser, ServicesDep
from sendmako.api.lean import request_body, validated
from sendmako.api.routes.responses import errors
from sendmako.api.schemas.messages import (
    BulkAcceptedOut,
    BulkJobOut,
    BulkResultOut,
    BulkSummaryOut,
    SendBulkIn,
    SendBulkOut,
    SendMessageIn,
    SendMessageOut,
)
from sendmako.concurrency.acting import act_for
from sendmako.errors import BadRequest
from sendmako.messaging.bulk import JobView
from sendmako.messaging.sender import Sent
from sendmako.model.statuses import RecipientStatus
from sendmako.storage.records import UserRecord
from sendmako.wiring import Services

T = TypeVar("T")

router = APIRouter(prefix="/api", tags=["messages"])


_SEND_MESSAGE = TypeAdapter(SendMessageIn)


@router.post(
    "/send-message",
    response_model=SendMessageOut,
    responses=errors(403, 404, 413, 422, 429, 503),
    openapi_extra=request_body(SendMessageIn),
)
async def send_message(request: Request) -> Response:
    """Send one message of any type to a number, a user JID or a group JID."""
    # The busiest route, in the fast lane: parsed and answered without FastAPI's routing,
    # dependency and response machinery (bench/bench_send_message.py compares), same contract.
    services: Services = request.app.state.services
    user = await services.auth.authenticate(request.headers.get("authorization"))
    act_for(user.id)  # downloads and media work of this request count to this account
    body = validated(_SEND_MESSAGE, await request.body(), request.headers.get("content-type"))
    sent = await _send(services, user, body)
    answer = SendMessageOut(
        message_id=sent.message_id,
        session_id=sent.session_id,
        to=sent.to,
        timestamp=int(sent.result.timestamp.timestamp()),
    )
    return Response(answer.model_dump_json(), media_type="application/json")


@router.post(
    "/send-bulk",
    responses={**errors(403, 404, 413, 422, 503), 202: {"model": BulkAcceptedOut}},
)
async def send_bulk(
    body: SendBulkIn, user: CurrentUser, services: ServicesDep, response: Response
) -> SendBulkOut | BulkAcceptedOut:
    """The same message to 1 to 100 recipients, one after another, at least 500 ms apart.
    With `"async": true` the answer is 202 with a job id at once; follow it at
    `GET /api/send-bulk/{job_id}`."""
    job = await services.bulk.submit(
        user, body.recipients, body.to_request(), run_async=body.run_async
    )
    if body.run_async:
        response.status_code = 202
        return BulkAcceptedOut(
            job_id=job.id, status=job.status, status_url=f"/api/send-bulk/{job.id}"
        )
    return SendBulkOut(job_id=job.id, summary=_summary(job), results=_results(job))


@router.get("/send-bulk/{job_id}", responses=errors(404))
async def bulk_status(job_id: str, user: CurrentUser, services: ServicesDep) -> BulkJobOut:
    """Progress and per-recipient results of a bulk job."""
    job: JobView = await services.bulk.status(user, job_id)
    return BulkJobOut(
        job_id=job.id,
        session_id=job.session_id,
        status=job.status,
        summary=_summary(job),
        results=_results(job),
        waiting=job.waiting,
    )


def _summary(job: JobView) -> BulkSummaryOut:
    return BulkSummaryOut(
        total=len(job.results),
        sent=job.count(RecipientStatus.SENT),
        failed=job.count(RecipientStatus.FAILED),
        pending=job.count(RecipientStatus.PENDING, RecipientStatus.SENDING),
        unknown=job.count(RecipientStatus.UNKNOWN),
    )


def _results(job: JobView) -> list[BulkResultOut]:
    return [
        BulkResultOut(
            to=result.to,
            success=result.success,
            status=result.status,
            message_id=result.message_id,
            message=result.error,
        )
        for result in job.results
    ]


async def _send(services: Services, user: UserRecord, body: SendMessageIn) -> Sent:
    """A message, or (types reaction and poll_vote) an action on one already sent."""
    if body.type == "reaction":
        emoji = _required(body.emoji, "emoji", "a reaction")
        message_id = _required(body.message_id, "message_id", "a reaction")
        return await services.actions.react(user, body.to, message_id, emoji, body.session_id)
    if body.type == "poll_vote":
        message_id = _required(body.message_id, "message_id", "a poll vote")
        options = _required(body.options, "options", "a poll vote")
        return await services.actions.vote(user, body.to, message_id, options, body.session_id)
    return await services.sender.send(user, body.to, body.to_request())


def _required(value: T | None, field: str, what: str) -> T:
    if value is None:
        raise BadRequest(f"{field}: this field is required for {what}", field=field)
    return value
