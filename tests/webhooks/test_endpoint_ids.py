"""Webhook endpoint ids tell nothing about other accounts: random, not sequential, and
another account's endpoint answers exactly as one that does not exist."""

from __future__ import annotations

from tests.harness import Account

HOOKS = "/api/webhooks"
URL = "https://hooks.example.com/sendmako"


async def create(account: Account) -> int:
    created = await account.client.post(HOOKS, json={"url": URL})
    assert created.status_code == 201, created.text
    hook_id: int = created.json()["webhook"]["id"]
    return hook_id


async def test_ids_are_random_and_past_32_bits(backend: str, alice: Account, bob: Account) -> None:
    """Five endpoints: no two ids next to each other, and (but for a 1 in 4 million
    chance each) past what a 32-bit column holds, so the 64-bit columns are in use (on
    SQLite and PostgreSQL: `backend`)."""
    ids = [await create(alice) for _ in range(3)] + [await create(bob) for _ in range(2)]
    assert len(set(ids)) == 5
    assert all(abs(a - b) > 1 for a in ids for b in ids if a != b)
    assert all(2**31 < hook_id <= 2**53 for hook_id in ids)
    listed = (await alice.client.get(HOOKS)).json()["webhooks"]
    assert [hook["id"] for hook in listed] == ids[:3], "listed in the order they were made"


async def test_another_accounts_endpoint_answers_like_one_that_does_not_exist(
    alice: Account, bob: Account
) -> None:
    bobs = await create(bob)
    missing = bobs + 1
    for method, path in [
        ("GET", "{}"),
        ("PATCH", "{}"),
        ("DELETE", "{}"),
        ("POST", "{}/test"),
        ("GET", "{}/deliveries"),
    ]:
        answers = [
            await alice.client.request(
                method,
                f"{HOOKS}/{path.format(hook_id)}",
                json={"enabled": False} if method == "PATCH" else None,
            )
            for hook_id in (bobs, missing)
        ]
        assert [a.status_code for a in answers] == [404, 404]
        texts = [
            a.json()["message"].replace(str(h), "ID")
            for a, h in zip(answers, (bobs, missing), strict=True)
        ]
        assert texts[0] == texts[1]
    assert (await bob.client.get(f"{HOOKS}/{bobs}")).json()["webhook"]["enabled"] is True
