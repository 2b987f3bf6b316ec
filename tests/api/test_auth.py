"""API keys: the Authorization header, revocation at once, last use, disabled accounts."""

from __future__ import annotations

from typing import Literal

import pytest
from argon2 import PasswordHasher

from sendmako import accounts
from sendmako.storage import api_keys, users
from tests.dashboard.client import PASSWORD, Dashboard
from tests.harness import Account, Server

SESSIONS = "/api/whatsapp/sessions/"


@pytest.mark.parametrize(
    ("header", "code"),
    [
        (None, "missing_key"),
        ("wsa_abc", "malformed_key"),
        ("Basic d3NhXzEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDEy", "malformed_key"),
        ("Bearer not-a-key", "malformed_key"),
        ("Bearer wsa_" + "x" * 40, "invalid_key"),
    ],
)
async def test_bad_keys_are_401(server: Server, header: str | None, code: str) -> None:
    """Missing, malformed and unknown keys are 401 with a message saying which."""
    client = server.client()
    headers = {"Authorization": header} if header else {}
    answer = await client.get(SESSIONS, headers=headers)
    assert answer.status_code == 401
    assert answer.json()["code"] == code
    assert answer.json()["success"] is False


async def test_keys_have_the_documented_shape(alice: Account) -> None:
    """`wsa_` and at least 32 random characters; two keys never repeat."""
    assert alice.key.startswith("wsa_")
    assert len(alice.key) >= 4 + 32
    assert alice.key[4:].isalnum()
    assert accounts.generate_key() != accounts.generate_key()


async def test_only_a_hash_of_the_key_is_stored(server: Server, alice: Account) -> None:
    """The database holds the SHA-256 and a short prefix, never the key."""
    assert server.app is not None
    async with server.app.state.services.db.read() as db:
        (record,) = await api_keys.list_for_user(db, alice.user.id)
        owner = await api_keys.owner_of(db, accounts.hash_key(alice.key))
    assert owner is not None
    assert owner.key_hash == accounts.hash_key(alice.key) != alice.key
    assert record.prefix == alice.key[:12]


async def test_revocation_takes_effect_at_once(server: Server, alice: Account) -> None:
    """The request right after the revocation is refused, although the key was cached."""
    spare = (await alice.client.post("/api/keys", json={"name": "spare"})).json()
    spare_client = server.client(spare["key"])
    assert (await spare_client.get(SESSIONS)).status_code == 200
    revoked = await alice.client.delete(f"/api/keys/{spare['api_key']['id']}")
    assert revoked.json()["api_key"]["revoked_at"] is not None
    answer = await spare_client.get(SESSIONS)
    assert answer.status_code == 401
    assert answer.json()["code"] == "revoked_key"
    assert (await alice.client.get(SESSIONS)).status_code == 200, "other keys keep working"


async def test_keys_api_lists_without_secrets(server: Server, alice: Account) -> None:
    """Listing shows prefixes and dates, never a whole key; a new key is shown once."""
    created = (await alice.client.post("/api/keys", json={"name": "ci"})).json()
    listed = await alice.client.get("/api/keys")
    assert [k["name"] for k in listed.json()["keys"]] == ["first key", "ci"]
    assert created["key"] not in listed.text
    assert alice.key not in listed.text
    assert created["api_key"]["prefix"] == created["key"][:12]


async def test_another_users_key_cannot_be_revoked(
    server: Server, alice: Account, bob: Account
) -> None:
    (bobs_key,) = (await bob.client.get("/api/keys")).json()["keys"]
    answer = await alice.client.delete(f"/api/keys/{bobs_key['id']}")
    assert answer.status_code == 404
    assert (await bob.client.get(SESSIONS)).status_code == 200


async def test_a_change_by_another_process_is_seen_at_once(server: Server, alice: Account) -> None:
    """The CLI revokes in its own process and bumps the credentials epoch; the server's
    cache drops the key on the next request."""
    assert (await alice.client.get(SESSIONS)).status_code == 200
    assert server.app is not None
    services = server.app.state.services
    async with services.db.write() as tx:
        (record,) = await api_keys.list_for_user(tx, alice.user.id)
        await accounts.revoke_key(tx, alice.user.id, record.id)
    assert (await alice.client.get(SESSIONS)).status_code == 200, "cached until signalled"
    services.auth.epoch.bump()
    assert (await alice.client.get(SESSIONS)).status_code == 401


async def test_use_records_last_used(server: Server, alice: Account) -> None:
    """A key's last-used date is set when it is used."""
    assert server.app is not None
    db = server.app.state.services.db
    async with db.read() as session:
        (before,) = await api_keys.list_for_user(session, alice.user.id)
    await alice.client.get(SESSIONS)
    async with db.read() as session:
        (after,) = await api_keys.list_for_user(session, alice.user.id)
    assert before.last_used_at is None
    assert after.last_used_at is not None


async def test_disabled_account_is_refused(server: Server, alice: Account) -> None:
    assert server.app is not None
    async with server.app.state.services.db.write() as tx:
        await users.update(tx, alice.user.id, disabled=True)
    await server.app.state.services.auth.forget_user(alice.user.id)
    answer = await alice.client.get(SESSIONS)
    assert answer.status_code == 403
    assert answer.json()["code"] == "account_disabled"


async def test_first_start_creates_an_admin_with_a_working_key(server: Server) -> None:
    """The empty database got an admin whose printed key works."""
    assert server.admin_key is not None
    answer = await server.client(server.admin_key).get(SESSIONS)
    assert answer.status_code == 200


async def test_second_start_creates_no_second_admin(server: Server) -> None:
    first_key = server.admin_key
    await server.restart()
    assert server.admin_key == first_key
    assert server.app is not None
    async with server.app.state.services.db.read() as db:
        assert await users.count(db) == 1


class CountingHasher(PasswordHasher):
    """The server's hasher, keeping the hash of each verification it does."""

    def __init__(self) -> None:
        model = accounts.PASSWORD_HASHER
        super().__init__(model.time_cost, model.memory_cost, model.parallelism)
        self.verified: list[str] = []

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:  # noqa: A002
        self.verified.append(str(hash))
        return super().verify(hash, password)


async def test_a_wrong_password_costs_the_same_for_a_never_used_account(server: Server) -> None:
    """A generated password is stored with a cheap hash (until its first login), which fails
    fast: the full-cost check runs too, or response times would tell that the account
    exists."""
    assert server.app is not None
    db = server.app.state.services.db
    async with db.write() as tx:
        user, _key = await accounts.create_user(tx, "fresh@example.com", plan="free")
    passwords = server.app.state.services.passwords
    await passwords.set(user.id, accounts.generate_password(), generated=True)
    hasher = passwords.hasher = CountingHasher()
    assert await passwords.check_login("fresh@example.com", "wrong") is None
    cheap, full = hasher.verified  # the stored cheap hash, then a full-cost one
    assert hasher.check_needs_rehash(cheap)
    assert not hasher.check_needs_rehash(full)


async def test_a_user_holds_50_active_keys_at_most(server: Server, alice: Account) -> None:
    """The 51st active key is refused (403 key_limit, naming the limit and the way out)
    through the API and the dashboard; revoking one makes room again."""
    for n in range(49):  # alice has her first key already
        made = await alice.client.post("/api/keys", json={"name": f"key {n}"})
        assert made.status_code == 201, made.text
    refused = await alice.client.post("/api/keys", json={"name": "one too many"})
    assert refused.status_code == 403
    assert refused.json()["code"] == "key_limit"
    assert "50 active keys" in refused.json()["message"]
    assert "Revoke a key" in refused.json()["message"]

    assert server.app is not None
    await server.app.state.services.passwords.set(alice.user.id, PASSWORD)
    dashboard = Dashboard(server)
    assert (await dashboard.login("alice@example.com")).status == 303
    page = await dashboard.post("/dashboard/keys", {"name": "one too many"})
    assert page.status == 403
    assert "You have 50 active keys, the most allowed: revoke one" in page.text

    key_id = made.json()["api_key"]["id"]
    assert (await alice.client.delete(f"/api/keys/{key_id}")).status_code == 200
    assert (await alice.client.post("/api/keys", json={"name": "room again"})).status_code == 201
    keys = (await alice.client.get("/api/keys")).json()["keys"]
    assert sum(key["revoked_at"] is None for key in keys) == 50
