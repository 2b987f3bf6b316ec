"""Admin pages (users with `is_admin`): users (create, plan, disable, new password) and plans."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from sendmako import accounts, log
from sendmako.dashboard.forms import CheckedForm, Form, error_text, field_of
from sendmako.dashboard.pages import DashboardRoute, redirect, render
from sendmako.dashboard.params import RowId
from sendmako.dashboard.visit import PREFIX, Admin, Visit
from sendmako.errors import BadRequest, NotFound, SendmakoError
from sendmako.storage import plans, users
from sendmako.storage.records import UserRecord

router = APIRouter(prefix=f"{PREFIX}/admin", route_class=DashboardRoute, include_in_schema=False)
logger = log.get(__name__)

PLAN_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
USERS = f"{PREFIX}/admin/users"
PLANS = f"{PREFIX}/admin/plans"


# -- users --------------------------------------------------------------------------------


@router.get("/users")
async def users_page(visit: Admin) -> Response:
    return await _users(visit)


@router.post("/users")
async def create_user(visit: Admin, form: CheckedForm) -> Response:
    t = visit.t
    plan_names = await _plan_names(visit)
    email = form.text("email", t("admin.email"), max_length=320)
    if email:
        try:
            email = accounts.normalize_email(email)
        except BadRequest:
            form.refuse("email", t("form.bad_email", field=t("admin.email")))
    plan = form.choice("plan", t("admin.plan"), plan_names)
    is_admin = form.flag("is_admin")
    raw_password = form.data.get("password")
    password = raw_password if isinstance(raw_password, str) else ""
    if password and len(password) < accounts.MIN_PASSWORD_LENGTH:
        form.refuse(
            "password",
            t("form.password_short", field=t("admin.password"), min=accounts.MIN_PASSWORD_LENGTH),
        )
    if not form.ok:
        return await _users(visit, form, status=400)
    generated = not password
    password = password or accounts.generate_password()
    try:
        hashed = await visit.services.passwords.hash(password, generated=generated)
        async with visit.services.db.write() as tx:
            user, key = await accounts.create_user(tx, email, plan=plan, is_admin=is_admin)
            await users.update(tx, user.id, password_hash=hashed)
    except SendmakoError as exc:
        form.refuse(field_of(exc), error_text(visit, exc))
        return await _users(visit, form, status=exc.status)
    logger.info("dashboard.user_created", user_id=user.id, by=visit.account.id)
    created = {
        "email": user.email,
        "password": password if generated else None,
        "key": key.secret,
    }
    return await _users(visit, created=created, status=201)


@router.post("/users/{user_id}/plan")
async def change_plan(user_id: RowId, visit: Admin, form: CheckedForm) -> Response:
    target = await _user(visit, user_id)
    plan = form.choice("plan", visit.t("admin.plan"), await _plan_names(visit))
    if not form.ok:
        return await _users(visit, form, status=400)
    async with visit.services.db.write() as tx:
        await users.update(tx, user_id, plan=plan)
    await visit.services.auth.forget_user(user_id)
    logger.info("dashboard.user_plan", user_id=user_id, plan=plan, by=visit.account.id)
    visit.flash(visit.t("admin.plan_changed", email=target.email, plan=plan))
    return redirect(USERS)


@router.post("/users/{user_id}/status")
async def change_status(user_id: RowId, visit: Admin, form: CheckedForm) -> Response:
    target = await _user(visit, user_id)
    action = form.choice("action", visit.t("admin.status"), ["disable", "enable"])
    if form.ok and action == "disable" and user_id == visit.account.id:
        form.refuse("action", visit.t("admin.not_yourself"))
    if not form.ok:
        return await _users(visit, form, status=400)
    await visit.services.suspensions.set_disabled(user_id, disabled=action == "disable")
    await visit.services.auth.forget_user(user_id)
    logger.info("dashboard.user_status", user_id=user_id, action=action, by=visit.account.id)
    done = "admin.user_disabled" if action == "disable" else "admin.user_enabled"
    visit.flash(visit.t(done, email=target.email))
    return redirect(USERS)


@router.post("/users/{user_id}/password")
async def new_password(user_id: RowId, visit: Admin, _form: CheckedForm) -> Response:
    target = await _user(visit, user_id)
    password = accounts.generate_password()
    # Every login of the user ends, but the one making the change (an admin's own reset).
    keep = visit.cookie.login if user_id == visit.account.id else None
    await visit.services.passwords.set(user_id, password, generated=True, keep_login=keep)
    logger.info("dashboard.user_password_reset", user_id=user_id, by=visit.account.id)
    reset = {"email": target.email, "password": password}
    return await _users(visit, reset=reset)


async def _user(visit: Visit, user_id: int) -> UserRecord:
    async with visit.services.db.read() as db:
        user = await users.get(db, user_id)
    if user is None:
        raise NotFound(f"User {user_id} not found.", code="user_not_found")
    return user


async def _plan_names(visit: Visit) -> list[str]:
    async with visit.services.db.read() as db:
        return [plan.name for plan in await plans.list_all(db)]


async def _users(
    visit: Visit, form: Form | None = None, *, status: int = 200, **shown: Any
) -> Response:
    async with visit.services.db.read() as db:
        everyone = await users.list_all(db)
        sessions = await users.session_counts(db)
        all_plans = await plans.list_all(db)
    return render(
        visit,
        "admin_users.html",
        status=status,
        active="admin_users",
        users=everyone,
        sessions=sessions,
        plans=all_plans,
        default_plan=visit.services.settings.default_plan,
        min_password=accounts.MIN_PASSWORD_LENGTH,
        created=shown.get("created"),
        reset=shown.get("reset"),
        values={k: form.raw(k) for k in ("email", "plan")} if form else {},
        errors=form.errors if form else {},
    )


# -- plans --------------------------------------------------------------------------------


@router.get("/plans")
async def plans_page(visit: Admin) -> Response:
    return await _plans(visit)


@router.post("/plans")
async def save_plan(visit: Admin, form: CheckedForm) -> Response:
    t = visit.t
    creating = form.raw("mode") != "edit"
    name = form.text("name", t("plans.name"), max_length=40).lower()
    if name and not PLAN_NAME.match(name):
        form.refuse("name", t("plans.bad_name", field=t("plans.name")))
    max_sessions = form.limit("max_sessions", t("plans.max_sessions"))
    daily_messages = form.limit("daily_messages", t("plans.daily_messages"))
    existing = await _plan_names(visit)
    if form.ok and creating and name in existing:
        form.refuse("name", t("plans.exists", name=name))
    if form.ok and not creating and name not in existing:
        raise NotFound(f"Plan {name} not found.", code="plan_not_found")
    if not form.ok:
        return await _plans(visit, form, target="new" if creating else name, status=400)
    async with visit.services.db.write() as tx:
        await plans.upsert(tx, name, max_sessions=max_sessions, daily_messages=daily_messages)
    # Cached API users carry their plan's limits: drop them all so the change applies now.
    await visit.services.auth.forget_all()
    logger.info("dashboard.plan_saved", plan=name, by=visit.account.id)
    visit.flash(t("plans.created" if creating else "plans.saved", name=name))
    return redirect(PLANS)


async def _plans(
    visit: Visit, form: Form | None = None, *, target: str = "", status: int = 200
) -> Response:
    async with visit.services.db.read() as db:
        all_plans = await plans.list_all(db)
        members = await plans.user_counts(db)
    fields = ("name", "max_sessions", "daily_messages")
    return render(
        visit,
        "admin_plans.html",
        status=status,
        active="admin_plans",
        plans=all_plans,
        members=members,
        target=target,  # the form the errors belong to: "new" or a plan's name
        values={k: form.raw(k) for k in fields} if form else {},
        errors=form.errors if form else {},
    )
