"""One module of dashboard routes per page family."""

from __future__ import annotations

from fastapi import APIRouter

from sendmako.dashboard.routes import (
    admin,
    auth,
    chats,
    keys,
    live,
    sandbox,
    sessions,
    usage,
    webhooks,
)

ROUTERS: list[APIRouter] = [
    auth.router,
    sessions.router,
    live.router,
    chats.router,
    chats.live,
    keys.router,
    webhooks.router,
    usage.router,
    sandbox.router,
    admin.router,
]
