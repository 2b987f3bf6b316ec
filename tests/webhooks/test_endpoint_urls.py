"""Webhook URLs that no parser should be trusted with are a 400 naming `url`, at creation
and on change, and nothing is stored."""

from __future__ import annotations

import pytest

from tests.harness import Account

HOOKS = "/api/webhooks"
GOOD = "https://hooks.example.com/sendmako"

BROKEN = [
    "http://[/",  # an IPv6 bracket never closed
    "http://[::1",
    "https://hooks.example.com\uff20127.0.0.1/",  # fullwidth @: a host after NFKC
    "https://hooks.example.com\uff03@127.0.0.1/",  # fullwidth #: a fragment after NFKC
    "http://a b/",
    "http://%zz/",
    "http://hooks.example.com:99999/",
]


@pytest.mark.parametrize("url", BROKEN)
async def test_a_broken_url_is_a_400_naming_url_and_nothing_is_stored(
    alice: Account, url: str
) -> None:
    answer = await alice.client.post(HOOKS, json={"url": url})
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert body["field"] == "url"
    assert body["message"].startswith("url: ")
    assert (await alice.client.get(HOOKS)).json()["webhooks"] == []


@pytest.mark.parametrize("url", BROKEN)
async def test_changing_to_a_broken_url_is_a_400_and_keeps_the_old_one(
    alice: Account, url: str
) -> None:
    created = await alice.client.post(HOOKS, json={"url": GOOD})
    hook_id = created.json()["webhook"]["id"]
    answer = await alice.client.patch(f"{HOOKS}/{hook_id}", json={"url": url})
    assert answer.status_code == 400, answer.text
    assert answer.json()["field"] == "url"
    assert (await alice.client.get(f"{HOOKS}/{hook_id}")).json()["webhook"]["url"] == GOOD
