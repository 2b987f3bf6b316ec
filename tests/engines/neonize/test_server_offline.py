"""The whole server with the neonize engine and WhatsApp out of reach: the API shows the
session `connecting` with the reason, deleting it removes its device store, and the
server stops in under 5 seconds even while every worker is stuck in a dial."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from sendmako.errors import Unavailable
from sendmako.ids import Jid
from sendmako.model.messages import MessageType, OutgoingMessage
from sendmako.settings import Settings
from tests.engines.neonize.workers import (
    blackhole_proxy,
    closed_port_proxy,
    neonize_settings,
    started_worker_pid,
)
from tests.harness import running

pytestmark = pytest.mark.slow
SESSIONS = "/api/whatsapp/sessions/"


def server_settings(tmp_path: Path, db_url: str, proxy: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=db_url,
        engines=["neonize", "sandbox"],
        default_engine="neonize",
        neonize=neonize_settings(proxy),
    )


async def test_api_shows_connecting_with_the_reason_and_delete_forgets_the_keys(
    tmp_path: Path, db_url: str
) -> None:
    async with running(server_settings(tmp_path, db_url, closed_port_proxy())) as server:
        alice = await server.account("alice@example.com")
        created = await alice.client.post(SESSIONS, json={"session_name": "Boutique"})
        assert created.status_code == 201
        sid = created.json()["session_id"]

        view = await server.sessions.wait_until(
            sid, lambda v: "cannot reach WhatsApp" in (v.detail or ""), 20
        )
        assert view.status == "connecting"
        shown = (await alice.client.get(f"{SESSIONS}{sid}/")).json()
        assert (shown["engine"], shown["status"], shown["qr"]) == ("neonize", "connecting", None)
        assert "cannot reach WhatsApp" in shown["status_detail"]

        pair = await alice.client.post(
            f"{SESSIONS}{sid}/pair-code", json={"phone_number": "+222 41 85 79 75"}
        )
        assert pair.status_code == 422

        handle = server.sessions.engine_session(sid)
        assert handle is not None
        with pytest.raises(Unavailable) as caught:
            await handle.perform(
                OutgoingMessage(Jid.user_jid("22241857975"), MessageType.TEXT, "x")
            )
        assert sid in caught.value.message

        health = (await server.client().get("/health")).json()
        assert health["engines"] == {"neonize": "ok", "sandbox": "ok"}

        store = tmp_path / "data" / "neonize" / f"{sid}.db"
        assert store.exists()  # the worker opened (and migrated) the session's own store
        deleted = await alice.client.delete(f"{SESSIONS}{sid}/")
        assert deleted.status_code == 200
        assert not store.exists()


async def test_server_stops_in_under_5_seconds_with_dials_in_flight(
    tmp_path: Path, db_url: str
) -> None:
    with blackhole_proxy() as proxy:
        settings = server_settings(tmp_path, db_url, proxy)
        async with running(settings) as server:
            alice = await server.account("alice@example.com")
            ids = [
                (await alice.client.post(SESSIONS, json={"session_name": n})).json()["session_id"]
                for n in ("a", "b", "c")
            ]
            engine = server.sessions.engines["neonize"]
            for sid in ids:
                live = server.sessions.engine_session(sid)
                await started_worker_pid(live)  # type: ignore[arg-type]
                status = await live.worker_status()  # type: ignore[attr-defined]
                assert status["state"] == "starting"  # connect() is dialling the blackhole
            began = time.monotonic()
            await server.stop()
            assert time.monotonic() - began < 5
            assert engine.sessions == {}  # type: ignore[attr-defined]
            await server.start()  # let `running` stop it again
