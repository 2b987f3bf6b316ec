"""The sandbox page: play the phone for sandbox sessions (scan the QR, type a pairing code,
unlink, lose the connection) and the outside world (a message of any type arrives), to
demo the whole flow, up to the webhooks, without a phone."""

from __future__ import annotations

import secrets
from typing import TypeVar

from fastapi import APIRouter
from starlette.responses import Response

from sendmako.dashboard import inbound
from sendmako.dashboard.forms import CheckedForm, Form, error_text
from sendmako.dashboard.pages import DashboardRoute, redirect, render
from sendmako.dashboard.visit import PREFIX, Member, Visit
from sendmako.errors import SendmakoError
from sendmako.ids import InvalidIdentifier, normalize_phone
from sendmako.messaging.sender import check
from sendmako.model.actions import Action
from sendmako.model.simulation import (
    Arrival,
    Arrive,
    Disconnect,
    DisconnectReason,
    EnterPairCode,
    Scan,
)

R = TypeVar("R")

router = APIRouter(prefix=f"{PREFIX}/sandbox", route_class=DashboardRoute, include_in_schema=False)

DISCONNECT_REASONS = ("connection_lost", "logged_out")


@router.get("")
async def sandbox_page(visit: Member) -> Response:
    return _page(visit)


@router.post("/{session_id}/scan")
async def scan(session_id: str, visit: Member, form: CheckedForm) -> Response:
    phone = form.text("phone_number", visit.t("sandbox.phone"), max_length=40)
    if form.ok:
        try:
            phone = normalize_phone(phone)
        except InvalidIdentifier:
            form.refuse("phone_number", visit.t("form.bad_phone", field=visit.t("sandbox.phone")))
    if not form.ok:
        return _page(visit, errors={session_id: form.errors["phone_number"]}, status=400)
    try:
        await _simulate(visit, session_id, Scan(phone))
    except SendmakoError as exc:
        return _page(visit, errors={session_id: error_text(visit, exc)}, status=exc.status)
    visit.flash(visit.t("sandbox.scanned", session=session_id, phone=phone))
    return redirect(f"{PREFIX}/sandbox")


@router.post("/{session_id}/pair")
async def enter_pair_code(session_id: str, visit: Member, form: CheckedForm) -> Response:
    code = form.text("pair_code", visit.t("sandbox.pair_code"), max_length=20)
    if not form.ok:
        return _page(visit, errors={session_id: form.errors["pair_code"]}, status=400)
    try:
        await _simulate(visit, session_id, EnterPairCode(code))
    except SendmakoError as exc:
        return _page(visit, errors={session_id: error_text(visit, exc)}, status=exc.status)
    visit.flash(visit.t("sandbox.paired", session=session_id))
    return redirect(f"{PREFIX}/sandbox")


@router.post("/{session_id}/disconnect")
async def disconnect(session_id: str, visit: Member, form: CheckedForm) -> Response:
    reason = form.choice("reason", visit.t("sandbox.reason"), list(DISCONNECT_REASONS))
    if not form.ok:
        return _page(visit, errors={session_id: form.errors["reason"]}, status=400)
    try:
        await _simulate(visit, session_id, Disconnect(DisconnectReason(reason)))
    except SendmakoError as exc:
        return _page(visit, errors={session_id: error_text(visit, exc)}, status=exc.status)
    visit.flash(visit.t(f"sandbox.done_{reason}", session=session_id))
    return redirect(f"{PREFIX}/sandbox")


@router.post("/{session_id}/inbound")
async def receive(session_id: str, visit: Member, form: CheckedForm) -> Response:
    """A message from the outside world arrives, as /api/sandbox/.../inbound makes it."""
    message = await inbound.read(visit, form)
    if message is None:
        return _page(visit, inbound_form=(session_id, form), status=400)
    try:
        check(message.request)
        content = await visit.services.sender.content(message.request)
        arrival = Arrival(content, message.sender_phone, message.sender_name, message.group)
        await _simulate(visit, session_id, Arrive((arrival,)))
    except SendmakoError as exc:
        inbound.refuse(visit, form, exc)
        return _page(visit, inbound_form=(session_id, form), status=exc.status)
    visit.flash(visit.t("sandbox.received", session=session_id, phone=message.sender_phone))
    return redirect(f"{PREFIX}/sandbox")


async def _simulate(visit: Visit, session_id: str, action: Action[R]) -> R:
    """The simulated phone (or world) of one of the user's sandbox sessions does `action`."""
    return await visit.services.sessions.perform(visit.account, session_id, action)


def _page(
    visit: Visit,
    *,
    errors: dict[str, str] | None = None,
    inbound_form: tuple[str, Form] | None = None,
    status: int = 200,
) -> Response:
    """`inbound_form`: the session whose incoming message form was refused, and the form."""
    errors = dict(errors or {})
    if inbound_form is not None and "form" in inbound_form[1].errors:
        # Not about one field (e.g. the session is not connected): the card says it, as
        # for the other actions, whatever the card shows now.
        errors[inbound_form[0]] = inbound_form[1].errors["form"]
    engines, sessions = visit.services.engines, visit.services.sessions
    sandboxed = [
        view
        for view in sessions.list_for(visit.account)
        if sessions.supports(view.session_id, Scan)
    ]
    return render(
        visit,
        "sandbox.html",
        status=status,
        active="sandbox",
        sessions=sandboxed,
        sandbox_enabled=any(Scan in engine.capabilities for engine in engines.values()),
        # Plausible Mauritanian mobile numbers, so a demo needs no typing.
        suggested_phone=f"2224{secrets.randbelow(10**7):07d}",
        suggested_sender=f"2223{secrets.randbelow(10**7):07d}",
        errors=errors,
        types=inbound.TYPES,
        inbound_for=inbound_form[0] if inbound_form else None,
        inbound_values={k: inbound_form[1].raw(k) for k in inbound.fields_of(visit)}
        if inbound_form
        else {},
        inbound_errors=inbound_form[1].errors if inbound_form else {},
    )
