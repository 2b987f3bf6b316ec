"""Dashboard passwords: argon2id hashes, the rules, and `sendmako users passwd`."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from sendmako import accounts
from sendmako.cli import main
from sendmako.errors import BadRequest
from sendmako.settings import Settings
from sendmako.storage import users
from tests.dashboard.client import Dashboard
from tests.harness import Server, running


async def test_passwords_are_stored_as_argon2id(server: Server) -> None:
    alice = await server.account("alice@example.com")
    assert server.app is not None
    db = server.app.state.services.db
    await accounts.set_password(db, alice.user.id, "a fine password")
    async with db.read() as session:
        stored = await users.password_hash(session, alice.user.id)
        assert (await users.get(session, alice.user.id)).has_password  # type: ignore[union-attr]
    assert stored is not None
    assert stored.startswith("$argon2id$")
    assert "a fine password" not in stored
    assert await accounts.check_login(db, "ALICE@example.com ", "a fine password") is not None
    assert await accounts.check_login(db, "alice@example.com", "a fine passwor") is None
    assert await accounts.check_login(db, "nobody@example.com", "a fine password") is None
    assert await accounts.check_login(db, "not an email", "a fine password") is None


async def test_password_rules() -> None:
    with pytest.raises(BadRequest, match="at least 10 characters") as short:
        await accounts.hash_password("too short")
    assert short.value.field == "password"
    with pytest.raises(BadRequest, match="at most"):
        await accounts.hash_password("x" * 2000)


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


async def test_the_cli_password_works_on_a_running_dashboard(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=workdir / "data",
        engines=["sandbox"],
        default_engine="sandbox",
    )
    async with running(settings) as server:
        monkeypatch.setattr("sys.stdin", io.StringIO("set from the CLI\n"))
        code = await asyncio.to_thread(
            main, ["users", "passwd", "admin@localhost", "--password-stdin"]
        )
        assert code == 0
        assert (await Dashboard(server).login("admin@localhost", "set from the CLI")).status == 303
