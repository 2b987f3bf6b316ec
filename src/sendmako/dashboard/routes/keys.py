"""API keys ("Clés API"): create (shown once), list, revoke."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from sendmako import accounts, log
from sendmako.dashboard.forms import CheckedForm, Form, error_text
from sendmako.dashboard.pages import DashboardRoute, redirect, render
from sendmako.dashboard.params import RowId
from sendmako.dashboard.visit import PREFIX, Member, Visit
from sendmako.errors import SendmakoError
from sendmako.storage import api_keys

router = APIRouter(prefix=f"{PREFIX}/keys", route_class=DashboardRoute, include_in_schema=False)
logger = log.get(__name__)


@router.get("")
async def keys_page(visit: Member) -> Response:
    return await _page(visit)


@router.post("")
async def create_key(visit: Member, form: CheckedForm) -> Response:
    name = form.text("name", visit.t("keys.name"), required=False, max_length=100)
    if not form.ok:
        return await _page(visit, form, status=400)
    try:
        async with visit.services.db.write() as tx:
            new = await accounts.create_key(tx, visit.account.id, name=name or None)
    except SendmakoError as exc:
        limit = visit.t("keys.limit", max=accounts.MAX_ACTIVE_KEYS)
        form.refuse("name", limit if exc.code == "key_limit" else error_text(visit, exc))
        return await _page(visit, form, status=exc.status)
    logger.info("dashboard.key_created", user_id=visit.account.id, prefix=new.record.prefix)
    # Rendered, not redirected: this answer is the only place the key will ever appear.
    return await _page(visit, new_key=new.secret, status=201)


@router.get("/{key_id}/revoke")
async def confirm_revoke(key_id: RowId, visit: Member) -> Response:
    async with visit.services.db.read() as db:
        key = await accounts.owned_key(db, visit.account.id, key_id)
    return render(
        visit,
        "confirm.html",
        active="keys",
        title=visit.t("keys.revoke_title", prefix=key.prefix),
        message=visit.t("keys.revoke_warning"),
        action=f"{PREFIX}/keys/{key_id}/revoke",
        button=visit.t("keys.revoke"),
        back=f"{PREFIX}/keys",
    )


@router.post("/{key_id}/revoke")
async def revoke(key_id: RowId, visit: Member, _form: CheckedForm) -> Response:
    async with visit.services.db.write() as tx:
        key = await accounts.revoke_key(tx, visit.account.id, key_id)
    await visit.services.auth.forget_user(visit.account.id)
    visit.flash(visit.t("keys.revoked", prefix=key.prefix))
    return redirect(f"{PREFIX}/keys")


async def _page(
    visit: Visit, form: Form | None = None, *, new_key: str | None = None, status: int = 200
) -> Response:
    async with visit.services.db.read() as db:
        keys = await api_keys.list_for_user(db, visit.account.id)
    return render(
        visit,
        "keys.html",
        status=status,
        active="keys",
        keys=list(reversed(keys)),  # newest first
        new_key=new_key,
        base_url=visit.services.settings.effective_public_url,
        values={"name": form.raw("name")} if form else {},
        errors=form.errors if form else {},
    )
