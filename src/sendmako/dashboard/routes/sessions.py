"""Sessions: list, create, the QR or pairing code until linked, rename, restart, delete,
and the send policy (with WhatsApp's restriction on the number, if any)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from sendmako.dashboard.forms import CheckedForm, Form, error_text, field_of
from sendmako.dashboard.pages import DashboardRoute, redirect, render
from sendmako.dashboard.routes.live import live_token
from sendmako.dashboard.visit import PREFIX, Member, Visit
from sendmako.errors import SendmakoError
from sendmako.ids import InvalidIdentifier, normalize_phone
from sendmako.model.actions import RequestPairCode
from sendmako.model.simulation import Scan
from sendmako.sessions.state import SessionChange, SessionView

router = APIRouter(prefix=f"{PREFIX}/sessions", route_class=DashboardRoute, include_in_schema=False)

NAME_MAX = 100
# The send policy's fields as the form has them: whole numbers (a blank cap: none).
POLICY_NUMBERS = (
    "min_delay_ms",
    "max_delay_ms",
    "per_hour",
    "per_day",
    "new_contacts_per_day",
    "same_text_new_contacts",
)
POLICY_FLAGS = ("warmup", "typing")


@router.get("")
async def sessions_page(visit: Member) -> Response:
    return _list(visit)


@router.post("")
async def create_session(visit: Member, form: CheckedForm) -> Response:
    name = form.text("session_name", visit.t("sessions.name"), required=False, max_length=NAME_MAX)
    engines = sorted(visit.services.engines)
    engine = None
    if len(engines) > 1:
        engine = form.choice("engine", visit.t("sessions.engine"), engines)
    if not form.ok:
        return _list(visit, form, status=400)
    try:
        view = await visit.services.sessions.create(
            visit.account, session_name=name or None, engine=engine
        )
    except SendmakoError as exc:
        form.refuse(field_of(exc), error_text(visit, exc))
        return _list(visit, form, status=exc.status)
    visit.flash(visit.t("sessions.created", name=view.session_name))
    return redirect(f"{PREFIX}/sessions/{view.session_id}")


@router.get("/{session_id}")
async def session_page(session_id: str, visit: Member) -> Response:
    return _detail(visit, visit.services.sessions.get(visit.account, session_id))


@router.post("/{session_id}/rename")
async def rename(session_id: str, visit: Member, form: CheckedForm) -> Response:
    view = visit.services.sessions.get(visit.account, session_id)
    name = form.text("session_name", visit.t("sessions.name"), max_length=NAME_MAX)
    if not form.ok:
        return _detail(visit, view, form, status=400)
    await visit.services.sessions.update(
        visit.account, session_id, SessionChange(session_name=name)
    )
    visit.flash(visit.t("session.renamed", name=name))
    return redirect(f"{PREFIX}/sessions/{session_id}")


@router.post("/{session_id}/send-policy")
async def send_policy(session_id: str, visit: Member, form: CheckedForm) -> Response:
    """The whole policy, as the form shows it; refused fields are named, nothing stored."""
    view = visit.services.sessions.get(visit.account, session_id)
    change: dict[str, object] = {name: form.flag(name) for name in POLICY_FLAGS}
    for name in POLICY_NUMBERS:
        raw = form.raw(name).strip()
        if not raw and name.endswith("_ms"):
            form.refuse(name, visit.t("form.required", field=visit.t(f"policy.{name}")))
        elif not raw:
            change[name] = None
        elif not raw.isdigit():
            form.refuse(name, visit.t("policy.whole_number", field=visit.t(f"policy.{name}")))
        else:
            change[name] = int(raw)
    if not form.ok:
        return _detail(visit, view, form, status=400)
    try:
        await visit.services.sessions.update(
            visit.account, session_id, SessionChange(send_policy=change)
        )
    except SendmakoError as exc:
        form.refuse(field_of(exc).removeprefix("send_policy."), error_text(visit, exc))
        return _detail(visit, view, form, status=exc.status)
    visit.flash(visit.t("policy.saved"))
    return redirect(f"{PREFIX}/sessions/{session_id}")


@router.post("/{session_id}/restart")
async def restart(session_id: str, visit: Member, _form: CheckedForm) -> Response:
    view = visit.services.sessions.get(visit.account, session_id)
    try:
        await visit.services.sessions.restart(visit.account, session_id)
    except SendmakoError as exc:
        return _detail(visit, view, _failed(visit, _form, exc), status=exc.status)
    visit.flash(visit.t("session.restarted"))
    return redirect(f"{PREFIX}/sessions/{session_id}")


@router.post("/{session_id}/pair-code")
async def pair_code(session_id: str, visit: Member, form: CheckedForm) -> Response:
    view = visit.services.sessions.get(visit.account, session_id)
    raw = form.text("phone_number", visit.t("session.pair_phone"), max_length=40)
    phone = ""
    if raw:
        try:
            phone = normalize_phone(raw)
        except InvalidIdentifier:
            label = visit.t("session.pair_phone")
            form.refuse("phone_number", visit.t("form.bad_phone", field=label))
    if not form.ok:
        return _detail(visit, view, form, status=400)
    try:
        code = await visit.services.sessions.pair_code(visit.account, session_id, phone)
    except SendmakoError as exc:
        return _detail(visit, view, _failed(visit, form, exc), status=exc.status)
    shown = f"{code[:4]}-{code[4:]}" if len(code) == 8 else code
    return _detail(visit, view, form, pair_code=shown)


@router.get("/{session_id}/delete")
async def confirm_delete(session_id: str, visit: Member) -> Response:
    view = visit.services.sessions.get(visit.account, session_id)
    return render(
        visit,
        "confirm.html",
        active="sessions",
        title=visit.t("session.delete_title", name=view.session_name),
        message=visit.t("session.delete_warning"),
        action=f"{PREFIX}/sessions/{session_id}/delete",
        button=visit.t("session.delete"),
        back=f"{PREFIX}/sessions/{session_id}",
    )


@router.post("/{session_id}/delete")
async def delete(session_id: str, visit: Member, _form: CheckedForm) -> Response:
    view = visit.services.sessions.get(visit.account, session_id)
    await visit.services.sessions.delete(visit.account, session_id)
    visit.flash(visit.t("session.deleted", name=view.session_name))
    return redirect(f"{PREFIX}/sessions")


def _failed(visit: Visit, form: Form, exc: SendmakoError) -> Form:
    form.refuse(field_of(exc), error_text(visit, exc))
    return form


def _list(visit: Visit, form: Form | None = None, *, status: int = 200) -> Response:
    user = visit.account
    views = visit.services.sessions.list_for(user)
    return render(
        visit,
        "sessions.html",
        status=status,
        active="sessions",
        sessions=views,
        engines=sorted(visit.services.engines),
        default_engine=visit.services.sessions.default_engine,
        max_sessions=user.plan.max_sessions,
        values={k: form.raw(k) for k in ("session_name", "engine")} if form else {},
        errors=form.errors if form else {},
    )


def _detail(
    visit: Visit,
    view: SessionView,
    form: Form | None = None,
    *,
    status: int = 200,
    pair_code: str | None = None,
) -> Response:
    sessions = visit.services.sessions
    return render(
        visit,
        "session.html",
        status=status,
        active="sessions",
        session=view,
        token=live_token(view),
        can_pair=sessions.supports(view.session_id, RequestPairCode),
        is_sandbox=sessions.supports(view.session_id, Scan),
        pair_code=pair_code,
        values={k: form.raw(k) for k in ("session_name", "phone_number", *POLICY_NUMBERS)}
        if form
        else {},
        policy_numbers=POLICY_NUMBERS,
        policy_flags=POLICY_FLAGS,
        errors=form.errors if form else {},
    )
