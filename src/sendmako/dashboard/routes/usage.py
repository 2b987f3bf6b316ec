"""Usage and plan: sessions against the limit, messages today against the quota."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from sendmako.dashboard.pages import DashboardRoute, render
from sendmako.dashboard.usage import usage_of
from sendmako.dashboard.visit import PREFIX, Member

router = APIRouter(prefix=f"{PREFIX}/usage", route_class=DashboardRoute, include_in_schema=False)


@router.get("")
async def usage_page(visit: Member) -> Response:
    usage = await usage_of(visit.services, visit.account)
    return render(visit, "usage.html", active="usage", usage=usage)
