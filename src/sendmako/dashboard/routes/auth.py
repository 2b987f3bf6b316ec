"""Logging in and out, and the language switch."""

from __future__ import annotations

import math

from fastapi import APIRouter
from starlette.responses import Response

from sendmako import accounts, log
from sendmako.dashboard.forms import CheckedForm
from sendmako.dashboard.i18n import CATALOGUES
from sendmako.dashboard.pages import DashboardRoute, redirect, render
from sendmako.dashboard.throttle import Throttled
from sendmako.dashboard.visit import PREFIX, Visit, Visitor, safe_next

router = APIRouter(prefix=PREFIX, route_class=DashboardRoute, include_in_schema=False)
logger = log.get(__name__)

HOME = f"{PREFIX}/sessions"


@router.get("")
async def home(visit: Visitor) -> Response:
    return redirect(HOME if visit.user else f"{PREFIX}/login")


@router.get("/login")
async def login_page(visit: Visitor, next: str = "") -> Response:  # noqa: A002 - the query name
    if visit.user is not None:
        return redirect(next if safe_next(next) else HOME)
    return _login_form(visit, next=next)


@router.post("/login")
async def login(visit: Visitor, form: CheckedForm) -> Response:
    email = form.raw("email").lower()
    password = form.data.get("password")
    password = password if isinstance(password, str) else ""
    next_path = form.raw("next")
    if not email:
        form.refuse("email", visit.t("form.required", field=visit.t("login.email")))
    if not password:
        form.refuse("password", visit.t("form.required", field=visit.t("login.password")))
    if not form.ok:
        return _login_form(visit, status=400, email=email, next=next_path, errors=form.errors)
    # The guess counts from now, before its password is checked (throttle.py).
    attempt = await visit.state.throttle.begin(email, visit.address, device=visit.device_for(email))
    if isinstance(attempt, Throttled):
        logger.warning("dashboard.login_throttled", address=visit.address)
        minutes = max(1, math.ceil(attempt.retry_after / 60))
        response = _login_form(
            visit,
            status=429,
            email=email,
            next=next_path,
            errors={"form": visit.t("login.throttled", minutes=minutes)},
        )
        response.headers["retry-after"] = str(math.ceil(attempt.retry_after))
        return response
    try:
        user = await visit.services.passwords.check_login(email, password)
    except BaseException:
        await attempt.failed()  # a check that broke is no free guess
        raise
    if user is None:
        await attempt.failed()
        logger.info("dashboard.login_failed", address=visit.address)
        return _login_form(
            visit, status=401, email=email, next=next_path, errors={"form": visit.t("login.wrong")}
        )
    await attempt.succeeded()  # the right password gives its slot back
    if user.disabled:
        return _login_form(
            visit,
            status=403,
            email=email,
            next=next_path,
            errors={"form": visit.t("login.disabled")},
        )
    async with visit.services.db.write() as tx:
        login = await accounts.open_login(tx, user.id)
    visit.sign_in(user, login)
    visit.remember_device(email)
    logger.info("dashboard.login", user_id=user.id)
    return redirect(next_path if safe_next(next_path) else HOME)


@router.post("/logout")
async def logout(visit: Visitor, _form: CheckedForm) -> Response:
    if visit.user is not None:
        logger.info("dashboard.logout", user_id=visit.user.id)
    if visit.cookie.login is not None:  # ended on the server: a copy of the cookie opens nothing
        async with visit.services.db.write() as tx:
            await accounts.close_login(tx, visit.cookie.login)
    visit.sign_out()
    visit.flash(visit.t("login.logged_out"))
    return redirect(f"{PREFIX}/login")


@router.post("/language")
async def language(visit: Visitor, form: CheckedForm) -> Response:
    lang = form.raw("lang")
    if lang in CATALOGUES:
        visit.switch_language(lang)
    back = form.raw("next")  # the page the switch was on
    return redirect(back if safe_next(back) else HOME)


def _login_form(
    visit: Visit,
    *,
    status: int = 200,
    email: str = "",
    next: str = "",  # noqa: A002 - the form field's name
    errors: dict[str, str] | None = None,
) -> Response:
    return render(
        visit,
        "login.html",
        status=status,
        email=email,
        next=next if safe_next(next) else "",
        errors=errors or {},
    )
