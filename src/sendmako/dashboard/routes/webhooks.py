"""Webhooks: a user's endpoints (add, edit, enable or disable, delete), their signing secret
(revealed on demand, rotated), a test event, and the delivery log with redelivery.

Every action is one call to `services.webhooks` (webhooks/endpoints.py), as /api/webhooks
does: the same URL guard with its reasons, the same 404 for another user's endpoint or
delivery. Secrets appear only in the answer to the POST that reveals or rotates them,
never in a GET page, a redirect, a flash message (the cookie is signed, not encrypted) or
the log.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter
from starlette.responses import Response

from sendmako import log
from sendmako.dashboard.deliveries import log_page
from sendmako.dashboard.forms import CheckedForm, Form, error_text, field_of
from sendmako.dashboard.pages import DashboardRoute, redirect, render
from sendmako.dashboard.params import PageNumber, RowId
from sendmako.dashboard.visit import PREFIX, Member, Visit
from sendmako.errors import SendmakoError
from sendmako.inbound.registry import WEBHOOKS
from sendmako.model.statuses import DeliveryStatus
from sendmako.storage.webhooks import EndpointRecord
from sendmako.webhooks.endpoints import EndpointChange

router = APIRouter(prefix=f"{PREFIX}/webhooks", route_class=DashboardRoute, include_in_schema=False)
logger = log.get(__name__)

LIST = f"{PREFIX}/webhooks"
URL_MAX = 2048
DESCRIPTION_MAX = 200
ERROR_EXCERPT = 200  # a test's error in a flash message: the cookie has little room


@dataclass(frozen=True, slots=True)
class EndpointFields:
    """The add and edit forms' fields; an empty list means every event or session."""

    url: str
    description: str
    events: list[str]
    session_ids: list[str]


@router.get("")
async def webhooks_page(visit: Member) -> Response:
    return await _list(visit)


@router.post("")
async def create_webhook(visit: Member, form: CheckedForm) -> Response:
    fields = _read(visit, form, _offered_sessions(visit, None))
    if not form.ok:
        return await _list(visit, form, status=400)
    try:
        created = await visit.services.webhooks.create(
            visit.account,
            url=fields.url,
            enabled=form.flag("enabled"),
            events=fields.events or None,
            session_ids=fields.session_ids or None,
            description=fields.description or None,
        )
    except SendmakoError as exc:
        form.refuse(field_of(exc), error_text(visit, exc))
        return await _list(visit, form, status=exc.status)
    logger.info("dashboard.webhook_created", user_id=visit.account.id, webhook_id=created.id)
    visit.flash(visit.t("webhooks.created"))
    return redirect(f"{LIST}/{created.id}")


@router.get("/{webhook_id}")
async def webhook_page(webhook_id: RowId, visit: Member, page: PageNumber = 1) -> Response:
    endpoint = await visit.services.webhooks.get(visit.account, webhook_id)
    return await _detail(visit, endpoint, page=page, live=True)


@router.post("/{webhook_id}/edit")
async def update_webhook(webhook_id: RowId, visit: Member, form: CheckedForm) -> Response:
    endpoint = await visit.services.webhooks.get(visit.account, webhook_id)
    fields = _read(visit, form, _offered_sessions(visit, endpoint))
    if not form.ok:
        return await _detail(visit, endpoint, form, status=400)
    change = EndpointChange(
        url=fields.url,
        events=fields.events or None,
        clear_events=not fields.events,
        session_ids=fields.session_ids or None,
        clear_sessions=not fields.session_ids,
        description=fields.description,
    )
    try:
        await visit.services.webhooks.update(visit.account, webhook_id, change)
    except SendmakoError as exc:
        form.refuse(field_of(exc), error_text(visit, exc))
        return await _detail(visit, endpoint, form, status=exc.status)
    visit.flash(visit.t("webhooks.saved"))
    return redirect(f"{LIST}/{webhook_id}")


@router.post("/{webhook_id}/enabled")
async def set_enabled(webhook_id: RowId, visit: Member, form: CheckedForm) -> Response:
    enabled = form.flag("enabled")  # the button sends 1 to enable, 0 to disable
    change = EndpointChange(enabled=enabled)
    await visit.services.webhooks.update(visit.account, webhook_id, change)
    visit.flash(visit.t("webhooks.enabled_now" if enabled else "webhooks.disabled_now"))
    return redirect(f"{LIST}/{webhook_id}")


@router.post("/{webhook_id}/secret")
async def reveal_secret(webhook_id: RowId, visit: Member, _form: CheckedForm) -> Response:
    endpoint = await visit.services.webhooks.get(visit.account, webhook_id)
    # Rendered, not redirected: the secret must not travel through a cookie or a GET page.
    return await _detail(visit, endpoint, secret=endpoint.secret)


@router.get("/{webhook_id}/rotate")
async def confirm_rotate(webhook_id: RowId, visit: Member) -> Response:
    endpoint = await visit.services.webhooks.get(visit.account, webhook_id)
    return render(
        visit,
        "confirm.html",
        active="webhooks",
        title=visit.t("webhooks.rotate_title", url=endpoint.url),
        message=visit.t("webhooks.rotate_warning"),
        action=f"{LIST}/{webhook_id}/rotate",
        button=visit.t("webhooks.rotate"),
        back=f"{LIST}/{webhook_id}",
    )


@router.post("/{webhook_id}/rotate")
async def rotate_secret(webhook_id: RowId, visit: Member, _form: CheckedForm) -> Response:
    change = EndpointChange(rotate_secret=True)
    rotated = await visit.services.webhooks.update(visit.account, webhook_id, change)
    logger.info("dashboard.webhook_secret_rotated", user_id=visit.account.id, webhook_id=rotated.id)
    return await _detail(visit, rotated, new_secret=rotated.secret)


@router.post("/{webhook_id}/test")
async def send_test(webhook_id: RowId, visit: Member, _form: CheckedForm) -> Response:
    outcome = await visit.services.webhooks.send_test(visit.account, webhook_id)
    if outcome.status == DeliveryStatus.SUCCEEDED:
        text = visit.t("webhooks.test_ok", status=outcome.status_code, ms=outcome.latency_ms)
        visit.flash(text)
    else:  # the error says why: "HTTP 500", "ConnectError: ...", "no answer within 10 s"
        error = (outcome.error or "")[:ERROR_EXCERPT]
        visit.flash(visit.t("webhooks.test_failed", error=error, ms=outcome.latency_ms), "error")
    # After a redirect, so reloading the page shows the log instead of sending again.
    return redirect(f"{LIST}/{webhook_id}")


@router.get("/{webhook_id}/delete")
async def confirm_delete(webhook_id: RowId, visit: Member) -> Response:
    endpoint = await visit.services.webhooks.get(visit.account, webhook_id)
    return render(
        visit,
        "confirm.html",
        active="webhooks",
        title=visit.t("webhooks.delete_title", url=endpoint.url),
        message=visit.t("webhooks.delete_warning"),
        action=f"{LIST}/{webhook_id}/delete",
        button=visit.t("webhooks.delete"),
        back=f"{LIST}/{webhook_id}",
    )


@router.post("/{webhook_id}/delete")
async def delete_webhook(webhook_id: RowId, visit: Member, _form: CheckedForm) -> Response:
    endpoint = await visit.services.webhooks.get(visit.account, webhook_id)
    await visit.services.webhooks.delete(visit.account, webhook_id)
    visit.flash(visit.t("webhooks.deleted", url=endpoint.url))
    return redirect(LIST)


@router.post("/deliveries/{delivery_id}/redeliver")
async def redeliver(delivery_id: RowId, visit: Member, _form: CheckedForm) -> Response:
    delivery = await visit.services.webhooks.redeliver(visit.account, delivery_id)
    visit.flash(visit.t("webhooks.redelivered", event=delivery.event_name))
    return redirect(f"{LIST}/{delivery.endpoint_id}")


# -- reading the form ----------------------------------------------------------------------


def _read(visit: Visit, form: Form, sessions: list[tuple[str, str]]) -> EndpointFields:
    t = visit.t
    return EndpointFields(
        url=form.text("url", t("webhooks.url"), max_length=URL_MAX),
        description=form.text(
            "description", t("webhooks.description"), required=False, max_length=DESCRIPTION_MAX
        ),
        events=form.choices("events", t("webhooks.events"), list(WEBHOOKS)),
        session_ids=form.choices(
            "session_ids", t("webhooks.sessions"), [session_id for session_id, _ in sessions]
        ),
    )


def _offered_sessions(visit: Visit, endpoint: EndpointRecord | None) -> list[tuple[str, str]]:
    """(id, name) of the sessions an endpoint may be limited to: the user's, plus any the
    endpoint already names (a deleted session stays tickable until it is unticked)."""
    offered = [
        (view.session_id, view.session_name)
        for view in visit.services.sessions.list_for(visit.account)
    ]
    known = {session_id for session_id, _ in offered}
    kept = endpoint.session_ids if endpoint is not None and endpoint.session_ids else ()
    return offered + [(session_id, session_id) for session_id in kept if session_id not in known]


# -- pages ---------------------------------------------------------------------------------


def _event_labels(visit: Visit) -> list[tuple[str, str]]:
    return [(name, visit.t(f"webhooks.event_{name.replace('.', '_')}")) for name in WEBHOOKS]


def _values(form: Form | None, endpoint: EndpointRecord | None) -> dict[str, object]:
    """What the add or edit form shows: what was just sent, else the endpoint's settings."""
    if form is not None:
        data = form.data
        return {
            "url": form.raw("url"),
            "description": form.raw("description"),
            "events": [v for v in data.getlist("events") if isinstance(v, str)],
            "session_ids": [v for v in data.getlist("session_ids") if isinstance(v, str)],
            "enabled": form.flag("enabled"),
        }
    if endpoint is not None:
        return {
            "url": endpoint.url,
            "description": endpoint.description or "",
            "events": list(endpoint.events or ()),
            "session_ids": list(endpoint.session_ids or ()),
            "enabled": endpoint.enabled,
        }
    return {"url": "", "description": "", "events": [], "session_ids": [], "enabled": True}


async def _list(visit: Visit, form: Form | None = None, *, status: int = 200) -> Response:
    sessions = _offered_sessions(visit, None)
    return render(
        visit,
        "webhooks.html",
        status=status,
        active="webhooks",
        endpoints=await visit.services.webhooks.of(visit.account),
        session_names=dict(sessions),
        sessions=sessions,
        events=_event_labels(visit),
        values=_values(form, None),
        errors=form.errors if form else {},
    )


async def _detail(
    visit: Visit,
    endpoint: EndpointRecord,
    form: Form | None = None,
    *,
    status: int = 200,
    page: int = 1,
    live: bool = False,
    secret: str | None = None,
    new_secret: str | None = None,
) -> Response:
    log_shown = await log_page(visit.services, visit.account, endpoint.id, page)
    sessions = _offered_sessions(visit, endpoint)
    return render(
        visit,
        "webhook.html",
        status=status,
        active="webhooks",
        endpoint=endpoint,
        secret_hint=endpoint.secret[-4:],
        secret=secret,
        new_secret=new_secret,
        log=log_shown,
        # Only a GET page follows the log by itself: reloading a POST's answer would
        # hide the secret it shows (or ask to send the form again).
        live=live,
        session_names=dict(sessions),
        sessions=sessions,
        events=_event_labels(visit),
        values=_values(form, endpoint),
        errors=form.errors if form else {},
    )
