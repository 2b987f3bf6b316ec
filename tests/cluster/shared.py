"""Helpers of the shared-state tests: a node's services, sessions spread over nodes."""

from __future__ import annotations

from sendmako.wiring import Services
from tests.harness import Account, Server, connect_sandbox


def services(server: Server) -> Services:
    assert server.app is not None
    found: Services = server.app.state.services
    return found


async def linked(server: Server, account: Account, count: int) -> list[str]:
    """`count` connected sandbox sessions of `account`, created through `server` (new
    sessions go to the least loaded node: two nodes get one each of two)."""
    return [
        await connect_sandbox(server, account, f"2224186{7970 + index}", f"S{index}")
        for index in range(count)
    ]
