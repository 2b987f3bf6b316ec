"""The sandbox page: play the phone for sandbox sessions (scan the QR, type a pairing code,
unlink, lose the connection) and the outside world (a message of any type arrives), to
demo the whole flow, up to the webhooks, without a phone."""

from __future__ import annotations

import secrets

from fastapi import APIRouter
from starlette.responses import Response

from sendmako.dashboard import inbound
from sendmako.dashboard.forms import CheckedForm, Form, error_text
from sendmako.dashboard.pages import DashboardRoute, redirect, render
from sendmako.dashboard.visit import PREFIX, Member, Visit
from sendmako.engines.base import Capability
from sendmako.engines.sandbox import SandboxSession
from sendmako.errors import NotFound, SendmakoError
from sendmako.ids import InvalidIdentifier, normalize_phone
from sendmako.messaging.sender import check

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
        await _phone(visit, session_id).scan(phone)
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
        await _phone(visit, session_id).enter_pair_code(code)
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
        await _phone(visit, session_id).simulate_disconnect(reason, None)
    except SendmakoError as exc:
        return _page(visit, errors={session_id: error_text(visit, exc)}, status=exc.status)
    visit.flash(visit.t(f"sandbox.done_{reason}", session=session_id))
    return redirect(f"{PREFIX}/sandbox")


@router.post("/{session_id}/inbound")
async def receive(session_id: str, visit: Member, form: CheckedForm) -> Response:
    """A message from the outside world arrives, as /api/sandbox/.../inbound makes it."""
    phone = _phone(visit, session_id)
    message = await inbound.read(visit, form)
    if message is None:
        return _page(visit, inbound_form=(session_id, form), status=400)
    try:
        check(message.request)
        content = await visit.services.sender.content(message.request)
        await phone.inject(
            content,
            sender_phone=message.sender_phone,
            sender_name=message.sender_name,
            group=message.group,
        )
    except SendmakoError as exc:
        inbound.refuse(visit, form, exc)
        return _page(visit, inbound_form=(session_id, form), status=exc.status)
    visit.flash(visit.t("sandbox.received", session=session_id, phone=message.sender_phone))
    return redirect(f"{PREFIX}/sandbox")


def _phone(visit: Visit, session_id: str) -> SandboxSession:
    """The simulated phone of one of the user's sandbox sessions."""
    handle = visit.services.sessions.engine_session(visit.account, session_id, Capability.SIMULATOR)
    if not isinstance(handle, SandboxSession):  # capability declared by a non-sandbox engine
        raise NotFound(f"Session {session_id} is not a sandbox session.")
    return handle


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
    engines = visit.services.engines
    sandboxed = [
        view
        for view in visit.services.sessions.list_for(visit.account)
        if view.engine in engines and Capability.SIMULATOR in engines[view.engine].capabilities
    ]
    return render(
        visit,
        "sandbox.html",
        status=status,
        active="sandbox",
        sessions=sandboxed,
        sandbox_enabled=any(Capability.SIMULATOR in e.capabilities for e in engines.values()),
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
