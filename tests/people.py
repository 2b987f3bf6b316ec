"""Four people on the sandbox, each with their own account and a connected session, for
contacts and groups tests: Alice creates groups, Bob and Carol join them, Dave stays out."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from tests.harness import Account, Server, connect_sandbox

NOT_ON_WHATSAPP = "22241850000"  # sandbox numbers ending in 0000 have no WhatsApp
INVITE_ONLY = "22241859999"  # ... and those ending in 9999 only join groups by invite


@dataclass
class Person:
    account: Account
    session_id: str
    phone: str
    name: str

    @property
    def client(self) -> httpx.AsyncClient:
        return self.account.client

    @property
    def jid(self) -> str:
        return f"{self.phone}@s.whatsapp.net"

    async def call(
        self, method: str, path: str, expect: int = 200, **kwargs: Any
    ) -> dict[str, Any]:
        answer = await self.client.request(method, path, **kwargs)
        assert answer.status_code == expect, answer.text
        body: dict[str, Any] = answer.json()
        return body

    async def create_group(self, name: str, *members: Person | str) -> str:
        numbers = [m.phone if isinstance(m, Person) else m for m in members]
        created = await self.call(
            "POST", "/api/groups", 201, json={"name": name, "participants": numbers}
        )
        group_id: str = created["group"]["id"]
        return group_id

    async def metadata(self, group: str, **params: Any) -> dict[str, Any]:
        body = await self.call("GET", f"/api/groups/{quote(group)}/metadata", params=params)
        group_out: dict[str, Any] = body["group"]
        return group_out

    async def roles(self, group: str) -> dict[str, str | None]:
        """Each participant's phone and `admin` value."""
        body = await self.call("GET", f"/api/groups/{group}/participants")
        return {p["phone"]: p["admin"] for p in body["participants"]}

    async def participants(
        self, group: str, action: str, *members: Person | str, expect: int = 200
    ) -> dict[str, Any]:
        numbers = [m.phone if isinstance(m, Person) else m for m in members]
        if action in ("add", "remove"):
            return await self.call(
                "POST",
                f"/api/groups/{group}/participants/{action}",
                expect,
                json={"participants": numbers},
            )
        return await self.call(
            "PUT",
            f"/api/groups/{group}/participants/update",
            expect,
            json={"participants": numbers, "action": action},
        )

    async def group_ids(self) -> list[str]:
        body = await self.call("GET", "/api/groups")
        return [group["id"] for group in body["groups"]]


@dataclass
class People:
    alice: Person
    bob: Person
    carol: Person
    dave: Person


async def person(server: Server, email: str, phone: str, name: str) -> Person:
    account = await server.account(email)
    session_id = await connect_sandbox(server, account, phone, name)
    return Person(account, session_id, phone, name)


async def meet(server: Server) -> People:
    # Connected side by side: each is its own user with its own session.
    alice, bob, carol, dave = await asyncio.gather(
        person(server, "alice@example.com", "22241857975", "Alassane Diallo"),
        person(server, "bob@example.com", "221781234567", "Fatou Ndiaye"),
        person(server, "carol@example.com", "237691234567", "Chantal Mbida"),
        person(server, "dave@example.com", "22670123456", "Dave Ouedraogo"),
    )
    return People(alice, bob, carol, dave)
