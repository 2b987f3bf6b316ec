"""The send policy of a session (API.md "Sending safely"): stored, read and changed with
GET/PATCH, and applied to every send, on a manual clock (no test sleeps)."""

from __future__ import annotations

import asyncio
from dataclasses import asdict

import httpx
import pytest

from sendmako.model.send_policy import TYPING_MAX_MS, TYPING_MIN_MS, WARMUP_DAILY_CAPS, SendPolicy
from sendmako.settings import Settings
from tests.clock import ManualClock
from tests.harness import Account, Server, connect_sandbox

SESSIONS = "/api/whatsapp/sessions/"
SEND = "/api/send-message"
ME = "22241857975"
# Only the rule under test holds sends back: no delay, no typing, no other cap.
NOTHING_ELSE = {
    "min_delay_ms": 0,
    "max_delay_ms": 0,
    "typing": False,
    "warmup": False,
    "per_hour": None,
    "per_day": None,
    "new_contacts_per_day": None,
    "same_text_new_contacts": None,
}
HOUR, DAY = 3_600, 86_400


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The server's careful defaults, not the tests' unlimited policy."""
    return settings.model_copy(update={"send_policy": {}})


@pytest.fixture
def clock(server: Server) -> ManualClock:
    clock = ManualClock()
    assert server.app is not None
    server.sessions.send_clock = clock
    server.app.state.services.sender.governor.clock = clock.now
    return clock


def number(index: int) -> str:
    return f"2217812345{index:02d}"


async def connected(server: Server, alice: Account, **policy: object) -> str:
    session_id = await connect_sandbox(server, alice, ME)
    if policy:
        await set_policy(alice, session_id, **policy)
    return session_id


async def set_policy(alice: Account, session_id: str, **policy: object) -> dict[str, object]:
    answer = await alice.client.patch(f"{SESSIONS}{session_id}", json={"send_policy": policy})
    assert answer.status_code == 200, answer.text
    result: dict[str, object] = answer.json()["send_policy"]
    return result


async def send(alice: Account, session_id: str, to: str, text: str = "Bonjour") -> httpx.Response:
    return await alice.client.post(
        SEND, json={"to": to, "type": "text", "text": text, "session_id": session_id}
    )


async def sent_ok(alice: Account, session_id: str, to: str, text: str = "Bonjour") -> None:
    answer = await send(alice, session_id, to, text)
    assert answer.status_code == 200, answer.text


async def writes_in(alice: Account, session_id: str, phone: str) -> None:
    """`phone` writes to the session: a known contact from then on."""
    answer = await alice.client.post(
        f"/api/sandbox/sessions/{session_id}/inbound",
        json={"from": phone, "type": "text", "text": "Salut"},
    )
    assert answer.status_code == 200, answer.text


def held(answer: httpx.Response, rule: str) -> float:
    """A 429 naming `rule`: its Retry-After, in seconds."""
    assert answer.status_code == 429, answer.text
    body = answer.json()
    assert body["code"] == f"send_policy_{rule}"
    assert rule in body["message"]
    return float(answer.headers["Retry-After"])


# -- the stored policy ----------------------------------------------------------------------


async def test_a_session_shows_the_careful_defaults(server: Server, alice: Account) -> None:
    """A new session has the default policy, no restriction, and its health."""
    session_id = await connect_sandbox(server, alice, ME)
    view = (await alice.client.get(f"{SESSIONS}{session_id}")).json()
    assert view["send_policy"] == asdict(SendPolicy())
    assert view["send_policy"]["min_delay_ms"] >= 500
    assert view["restriction"] is None
    assert set(view["health"]) == {"last_inbound_at", "last_outbound_at", "reconnects_24h"}


async def test_a_patch_changes_only_the_fields_it_gives(server: Server, alice: Account) -> None:
    """The other fields keep their values, and the change is stored."""
    session_id = await connect_sandbox(server, alice, ME)
    changed = await set_policy(alice, session_id, per_day=300, typing=False)
    assert changed == {**asdict(SendPolicy()), "per_day": 300, "typing": False}
    await set_policy(alice, session_id, per_hour=None)
    await server.restart()
    view = (await alice.client.get(f"{SESSIONS}{session_id}")).json()
    assert view["send_policy"] == {
        **asdict(SendPolicy()),
        "per_day": 300,
        "typing": False,
        "per_hour": None,
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"min_delay_ms": 5_000}, "send_policy.min_delay_ms"),  # above max_delay_ms (3000)
        ({"max_delay_ms": -1}, "send_policy.max_delay_ms"),
        ({"per_hour": 0}, "send_policy.per_hour"),
        ({"per_hour": 700}, "send_policy.per_hour"),  # above per_day (600)
        ({"per_day": "many"}, "send_policy.per_day"),
        ({"typing": "yes"}, "send_policy.typing"),
        ({"warmup": 1}, "send_policy.warmup"),
        ({"per_minute": 3}, "send_policy.per_minute"),
    ],
)
async def test_a_bad_policy_is_refused_naming_the_field(
    server: Server, alice: Account, change: dict[str, object], field: str
) -> None:
    """400 naming the field, and nothing of the change is stored."""
    session_id = await connect_sandbox(server, alice, ME)
    answer = await alice.client.patch(
        f"{SESSIONS}{session_id}", json={"send_policy": {"per_day": 100, **change}}
    )
    assert answer.status_code == 400, answer.text
    assert answer.json()["field"] == field
    assert field in answer.json()["message"]
    view = (await alice.client.get(f"{SESSIONS}{session_id}")).json()
    assert view["send_policy"] == asdict(SendPolicy())


async def test_another_users_session_policy_is_not_found(
    server: Server, alice: Account, bob: Account
) -> None:
    session_id = await connect_sandbox(server, alice, ME)
    answer = await bob.client.patch(f"{SESSIONS}{session_id}", json={"send_policy": {}})
    assert answer.status_code == 404


# -- the rules --------------------------------------------------------------------------------


async def test_the_hourly_cap_answers_429_until_the_hour_has_passed(
    server: Server, alice: Account, clock: ManualClock
) -> None:
    session_id = await connected(server, alice, **{**NOTHING_ELSE, "per_hour": 3})
    for index in range(3):
        await sent_ok(alice, session_id, number(index))
    clock.advance(600)
    retry_after = held(await send(alice, session_id, number(3)), "per_hour")
    assert HOUR - 600 - 2 <= retry_after <= HOUR - 600 + 1
    clock.advance(retry_after)
    await sent_ok(alice, session_id, number(3))


async def test_the_daily_cap_answers_429_naming_it(
    server: Server, alice: Account, clock: ManualClock
) -> None:
    session_id = await connected(server, alice, **{**NOTHING_ELSE, "per_day": 2})
    await sent_ok(alice, session_id, number(0))
    await sent_ok(alice, session_id, number(1))
    retry_after = held(await send(alice, session_id, number(0)), "per_day")
    assert DAY - 2 <= retry_after <= DAY + 1
    clock.advance(DAY)
    await sent_ok(alice, session_id, number(0))


async def test_the_new_contact_budget_holds_while_known_contacts_still_get_messages(
    server: Server, alice: Account, clock: ManualClock
) -> None:
    """Numbers never talked to count against the budget; those who wrote in, or were
    written to before, do not."""
    session_id = await connected(server, alice, **{**NOTHING_ELSE, "new_contacts_per_day": 2})
    await writes_in(alice, session_id, number(50))
    await sent_ok(alice, session_id, number(0))
    await sent_ok(alice, session_id, number(1))
    held(await send(alice, session_id, number(2)), "new_contacts_per_day")
    await sent_ok(alice, session_id, number(50))  # wrote in: known
    await sent_ok(alice, session_id, number(0))  # written to before: known now
    clock.advance(DAY)
    await sent_ok(alice, session_id, number(2))


async def test_the_new_contact_budget_survives_a_restart(
    server: Server, alice: Account, clock: ManualClock
) -> None:
    """The counts are read back from the stored messages."""
    session_id = await connected(server, alice, **{**NOTHING_ELSE, "new_contacts_per_day": 2})
    await sent_ok(alice, session_id, number(0))
    await sent_ok(alice, session_id, number(1))
    await server.restart()
    held(await send(alice, session_id, number(2)), "new_contacts_per_day")
    await sent_ok(alice, session_id, number(1))


async def test_one_text_goes_to_a_few_new_contacts_only(
    server: Server, alice: Account, clock: ManualClock
) -> None:
    """The same text (case and spacing aside) to too many new contacts is held; another
    text, or the same one to a known contact, is not."""
    session_id = await connected(server, alice, **{**NOTHING_ELSE, "same_text_new_contacts": 2})
    await writes_in(alice, session_id, number(50))
    await sent_ok(alice, session_id, number(0), "Promo : -50 % ce week-end")
    await sent_ok(alice, session_id, number(1), "promo :  -50 %  ce week-end")
    held(
        await send(alice, session_id, number(2), "PROMO : -50 % ce week-end"),
        "same_text_new_contacts",
    )
    await sent_ok(alice, session_id, number(50), "Promo : -50 % ce week-end")
    await sent_ok(alice, session_id, number(2), "Bonjour, une question pour vous")


async def test_warm_up_caps_the_first_day_and_grows_after(
    server: Server, alice: Account, clock: ManualClock
) -> None:
    """A newly linked number sends a small number of messages on its first day, more on
    the next."""
    session_id = await connected(server, alice, **{**NOTHING_ELSE, "warmup": True})
    first_day, second_day = WARMUP_DAILY_CAPS[0], WARMUP_DAILY_CAPS[1]
    for index in range(first_day):
        await sent_ok(alice, session_id, number(index % 10))
    retry_after = held(await send(alice, session_id, number(0)), "warmup")
    assert retry_after <= DAY + 1
    clock.advance(DAY + 60)  # the link was stored a moment after the clock was read
    for index in range(second_day):
        await sent_ok(alice, session_id, number(index % 10))
    held(await send(alice, session_id, number(0)), "warmup")


async def test_concurrent_sends_cannot_all_pass_a_cap(
    server: Server, alice: Account, clock: ManualClock
) -> None:
    """Each admitted send is counted at once: ten at the same moment, three pass."""
    session_id = await connected(server, alice, **{**NOTHING_ELSE, "per_hour": 3})
    answers = await asyncio.gather(*(send(alice, session_id, number(i)) for i in range(10)))
    assert sorted(answer.status_code for answer in answers) == [200] * 3 + [429] * 7


async def test_a_random_delay_separates_sends_and_typing_comes_before_a_text(
    server: Server, alice: Account, clock: ManualClock
) -> None:
    """With the defaults: `composing` for a time growing with the text, capped, and
    between two sends a delay drawn between min_delay_ms and max_delay_ms."""
    session_id = await connected(server, alice)
    policy = SendPolicy()
    first = asyncio.create_task(send(alice, session_id, number(0), "Bonjour"))
    await clock.wait_sleeping()
    assert clock.sleeping == [pytest.approx(TYPING_MIN_MS / 1000)]
    clock.advance(TYPING_MIN_MS / 1000)
    assert (await first).status_code == 200
    second = asyncio.create_task(send(alice, session_id, number(1), "x" * 5_000))
    await clock.wait_sleeping()
    (delay,) = clock.sleeping
    assert policy.min_delay_ms / 1000 <= delay <= policy.max_delay_ms / 1000
    clock.advance(delay)
    await clock.wait_sleeping()
    assert clock.sleeping == [pytest.approx(TYPING_MAX_MS / 1000)]
    clock.advance(TYPING_MAX_MS / 1000)
    assert (await second).status_code == 200
    assert not second.cancelled()


async def test_a_bulk_job_waits_for_the_policy_says_why_and_finishes(
    server: Server, alice: Account, clock: ManualClock
) -> None:
    """Held by the hourly cap, an async job waits instead of failing its recipients, its
    progress names the rule, and it finishes once the hour has passed."""
    session_id = await connected(server, alice, **{**NOTHING_ELSE, "per_hour": 2})
    recipients = [number(0), number(1), number(2)]
    answer = await alice.client.post(
        "/api/send-bulk",
        json={
            "recipients": recipients,
            "type": "text",
            "text": "Bonjour",
            "session_id": session_id,
            "async": True,
        },
    )
    assert answer.status_code == 202, answer.text
    job_id = answer.json()["job_id"]
    await clock.wait_sleeping()  # the bulk contract's 500 ms before the second send
    assert clock.sleeping == [pytest.approx(0.5)]
    clock.advance(0.5)
    await clock.wait_sleeping()  # held by the cap: waits for the hour to pass
    (wait,) = clock.sleeping
    assert HOUR - 5 <= wait <= HOUR + 1
    status = (await alice.client.get(f"/api/send-bulk/{job_id}")).json()
    assert status["status"] == "running"
    assert "per_hour" in status["waiting"]
    assert status["summary"]["sent"] == 2
    assert [result["status"] for result in status["results"]] == ["sent", "sent", "pending"]
    clock.advance(wait)
    assert server.app is not None
    await server.app.state.services.bulk.wait(job_id, timeout=10)
    status = (await alice.client.get(f"/api/send-bulk/{job_id}")).json()
    assert (status["status"], status["summary"]["sent"], status["waiting"]) == ("done", 3, None)
