"""The dashboard on several nodes: a login made through one node is valid on every node,
and guesses at a password count once, whichever nodes they go through."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cluster.nodes import cluster
from tests.cluster.shared import services
from tests.dashboard.client import PASSWORD, Dashboard, member

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


async def test_a_login_made_through_one_node_works_on_the_others(tmp_path: Path) -> None:
    async with cluster(tmp_path) as start:
        a, b = await start("node-a"), await start("node-b")
        _, on_a = await member(a, "alice@example.com")
        on_b = Dashboard(b)
        on_b.http.cookies = on_a.http.cookies  # the same browser, behind a load balancer
        page = await on_b.get("/dashboard/sessions")
        assert page.status == 200, page.text[:300]


async def test_guesses_spread_over_the_nodes_count_once(tmp_path: Path) -> None:
    """Five wrong guesses at alice, alternating nodes: the sixth is refused by either."""
    async with cluster(tmp_path) as start:
        a, b = await start("node-a"), await start("node-b")
        account = await a.account("alice@example.com")
        await services(a).passwords.set(account.user.id, PASSWORD)
        attackers = [Dashboard(a), Dashboard(b)]
        for n in range(5):
            page = await attackers[n % 2].login("alice@example.com", f"guess {n}")
            assert page.status == 401
        for attacker in attackers:
            assert (await attacker.login("alice@example.com", PASSWORD)).status == 429
