"""Dashboard passwords: argon2id hashes, the rules, and `sendmako users passwd`."""

from __future__ import annotations

import asyncio
import io
import threading
from pathlib import Path

import pytest

from sendmako.cli import main
from sendmako.errors import BadRequest
from sendmako.settings import Settings
from sendmako.storage import users
from tests.dashboard.client import PASSWORD, Dashboard, member
from tests.harness import Server, running


async def test_passwords_are_stored_as_argon2id(server: Server) -> None:
    alice = await server.account("alice@example.com")
    assert server.app is not None
    db = server.app.state.services.db
    passwords = server.app.state.services.passwords
    await passwords.set(alice.user.id, "a fine password")
    async with db.read() as session:
        stored = await users.password_hash(session, alice.user.id)
        assert (await users.get(session, alice.user.id)).has_password  # type: ignore[union-attr]
    assert stored is not None
    assert stored.startswith("$argon2id$")
    assert "a fine password" not in stored
    assert await passwords.check_login("ALICE@example.com ", "a fine password") is not None
    assert await passwords.check_login("alice@example.com", "a fine passwor") is None
    assert await passwords.check_login("nobody@example.com", "a fine password") is None
    assert await passwords.check_login("not an email", "a fine password") is None


async def test_password_rules(server: Server) -> None:
    assert server.app is not None
    passwords = server.app.state.services.passwords
    with pytest.raises(BadRequest, match="at least 10 characters") as short:
        await passwords.hash("too short")
    assert short.value.field == "password"
    with pytest.raises(BadRequest, match="at most"):
        await passwords.hash("x" * 2000)


@pytest.fixture
def workdir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SENDMAKO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SENDMAKO_ENGINES", "sandbox")
    monkeypatch.setenv("SENDMAKO_DEFAULT_ENGINE", "sandbox")
    return tmp_path


def test_users_passwd_sets_a_password_that_logs_in(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`sendmako users passwd EMAIL --password-stdin` (and the prompt, twice, otherwise)."""
    assert main(["users", "create", "fatou@example.com"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("from standard input\n"))
    assert main(["users", "passwd", "Fatou@example.com", "--password-stdin"]) == 0
    assert "Password of fatou@example.com changed." in capsys.readouterr().out

    answers = iter(["typed at the prompt", "typed at the prompt"])
    monkeypatch.setattr("getpass.getpass", lambda _prompt: next(answers))
    assert main(["users", "passwd", "fatou@example.com"]) == 0

    mismatch = iter(["one password here", "another password"])
    monkeypatch.setattr("getpass.getpass", lambda _prompt: next(mismatch))
    assert main(["users", "passwd", "fatou@example.com"]) == 1
    assert "the two passwords differ" in capsys.readouterr().err

    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["users", "passwd", "fatou@example.com", "--password-stdin"]) == 1
    assert "password: use at least 10 characters." in capsys.readouterr().err
    assert main(["users", "passwd", "nobody@example.com", "--password-stdin"]) == 1


@pytest.fixture
def cli_settings(workdir: Path) -> Settings:
    """The settings of a server on the data directory the CLI acts on."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=workdir / "data",
        engines=["sandbox"],
        default_engine="sandbox",
    )


async def test_the_cli_password_works_on_a_running_dashboard(
    cli_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(cli_settings) as server:
        monkeypatch.setattr("sys.stdin", io.StringIO("set from the CLI\n"))
        code = await asyncio.to_thread(
            main, ["users", "passwd", "admin@localhost", "--password-stdin"]
        )
        assert code == 0
        assert (await Dashboard(server).login("admin@localhost", "set from the CLI")).status == 303


async def test_the_cli_ends_the_logins_and_keys_of_a_running_server(
    cli_settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """From another process (the CLI runs its own event loop and database connections): a
    new password signs the user out; disabling signs them out and refuses their API key at
    once; enabling lets the key in again, not the ended logins."""
    async with running(cli_settings) as server:
        _, dashboard = await member(server, "alice@example.com")
        monkeypatch.setattr("sys.stdin", io.StringIO("set from the CLI\n"))
        passwd = ["users", "passwd", "alice@example.com", "--password-stdin"]
        assert await asyncio.to_thread(main, passwd) == 0
        assert (await dashboard.get("/dashboard/sessions")).status == 303

        alice = await server.account("alice2@example.com")
        await alice.client.get("/api/whatsapp/sessions/")  # its key is cached now
        assert server.app is not None
        await server.app.state.services.passwords.set(alice.user.id, PASSWORD)
        browser = Dashboard(server)
        assert (await browser.login("alice2@example.com")).status == 303
        assert await asyncio.to_thread(main, ["users", "disable", "alice2@example.com"]) == 0
        assert "User alice2@example.com disabled." in capsys.readouterr().out
        refused = await alice.client.get("/api/whatsapp/sessions/")
        assert (refused.status_code, refused.json()["code"]) == (403, "account_disabled")
        assert (await browser.get("/dashboard/sessions")).status == 303

        assert await asyncio.to_thread(main, ["users", "enable", "alice2@example.com"]) == 0
        assert (await alice.client.get("/api/whatsapp/sessions/")).status_code == 200
        assert (await browser.get("/dashboard/sessions")).status == 303


async def test_a_login_does_not_wait_behind_the_default_executor(server: Server) -> None:
    """Password hashing has threads of its own: a login completes at once while every
    thread of the default executor is held by long blocking work (voice notes, say)."""
    alice = await server.account("alice@example.com")
    assert server.app is not None
    await server.app.state.services.passwords.set(alice.user.id, PASSWORD)
    release = threading.Event()
    loop = asyncio.get_running_loop()
    # More than the default executor's threads (at most 32): every one of them is held.
    held = [loop.run_in_executor(None, release.wait) for _ in range(40)]
    try:
        async with asyncio.timeout(10):  # before: queued behind the held work, for ever
            page = await Dashboard(server).login("alice@example.com")
        assert page.status == 303
    finally:
        release.set()
        await asyncio.gather(*held)
