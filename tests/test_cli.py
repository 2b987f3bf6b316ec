"""The `sendmako` command acts on the database the settings name."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from sendmako.cli import main
from sendmako.settings import Settings
from tests.harness import connect_sandbox, hold_sends, running

SESSIONS = "/api/whatsapp/sessions/"


@pytest.fixture
def workdir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SENDMAKO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SENDMAKO_ENGINES", "sandbox")
    monkeypatch.setenv("SENDMAKO_DEFAULT_ENGINE", "sandbox")
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def key_in(output: str) -> str:
    match = re.search(r"wsa_[A-Za-z0-9]+", output)
    assert match, output
    return match.group(0)


async def test_users_and_keys_lifecycle(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """users create prints a working key; keys create/list/revoke manage them; revocation
    by prefix stops the key on a running server at once."""

    def cli(*argv: str) -> tuple[int, str]:
        return run(capsys, *argv)

    code, out = await asyncio.to_thread(
        cli, "users", "create", "Fatou@Example.com", "--plan", "pro"
    )
    assert code == 0
    first = key_in(out)
    code, out = await asyncio.to_thread(cli, "keys", "create", "fatou@example.com", "--name", "ci")
    second = key_in(out)
    code, out = await asyncio.to_thread(cli, "keys", "list", "fatou@example.com")
    assert first[:12] in out
    assert second[:12] in out
    assert first not in out, "listings never show whole keys"

    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=workdir / "data",
        engines=["sandbox"],
        default_engine="sandbox",
    )
    async with running(settings) as server:
        client = server.client(first)
        assert (await client.get(SESSIONS)).status_code == 200
        # The CLI runs its own event loop, as it does from a shell.
        code, out = await asyncio.to_thread(run, capsys, "keys", "revoke", first[:12])
        assert code == 0
        assert (await client.get(SESSIONS)).status_code == 401
        assert (await server.client(second).get(SESSIONS)).status_code == 200


def test_errors_are_one_clear_line(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "users", "create", "x@example.com", "--plan", "gold")
    assert code == 1
    assert "no plan named 'gold'" in out
    code, out = run(capsys, "keys", "create", "nobody@example.com")
    assert (code, out.strip()) == (1, "error: no user with the email nobody@example.com")
    code, out = run(capsys, "keys", "revoke", "wsa_nothing")
    assert code == 1


def test_plans_can_be_changed(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = run(capsys, "plans", "set", "team", "--sessions", "5", "--messages", "5000")
    assert code == 0
    code, out = run(capsys, "plans", "list")
    assert "team\t5\t5000" in out
    code, out = run(capsys, "users", "create", "t@example.com", "--plan", "team")
    assert code == 0


def test_invalid_settings_stop_the_command(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SENDMAKO_PORT", "not-a-port")
    code, out = run(capsys, "plans", "list")
    assert code == 2
    assert "SENDMAKO_PORT" in out


async def test_disabling_from_the_cli_stops_a_running_servers_job_until_enabled(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`users disable` in another process: the running server stops the account's bulk job
    (the message with WhatsApp goes out, the rest stay pending); `users enable`: it sends the
    rest, each once."""
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=workdir / "data",
        engines=["sandbox"],
        default_engine="sandbox",
    )
    async with running(settings) as server:
        alice = await server.account("alice@example.com")
        await connect_sandbox(server, alice, "22241857975")
        assert server.app is not None
        services = server.app.state.services
        services.bulk.min_gap = 0
        wire = hold_sends(server)
        recipients = ["221781234500", "221781234501", "221781234502"]
        answer = await alice.client.post(
            "/api/send-bulk",
            json={"recipients": recipients, "type": "text", "text": "x", "async": True},
        )
        job_id = answer.json()["job_id"]
        async with asyncio.timeout(5):
            await wire.holding.wait()

        code, out = await asyncio.to_thread(run, capsys, "users", "disable", "alice@example.com")
        assert code == 0
        assert "User alice@example.com disabled." in out
        # The server learns it from the credentials epoch, within a second.
        await services.suspensions.wait_until(lambda off: alice.user.id in off, timeout=5)
        wire.release()
        await services.bulk.wait(job_id, timeout=5)
        job = await services.bulk.status(alice.user, job_id)
        assert (job.status, [r.status for r in job.results]) == (
            "paused",
            ["sent", "pending", "pending"],
        )

        code, _ = await asyncio.to_thread(run, capsys, "users", "enable", "alice@example.com")
        assert code == 0
        await services.suspensions.wait_until(lambda off: alice.user.id not in off, timeout=5)
        await services.bulk.wait(job_id, timeout=10)
        job = await services.bulk.status(alice.user, job_id)
        assert (job.status, [r.status for r in job.results]) == ("done", ["sent"] * 3)
