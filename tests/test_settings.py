"""Settings: validated at start-up, with messages that name the variable."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from sendmako.settings import Settings, load_settings


def make(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_defaults_use_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    settings = make(data_dir=tmp_path)
    assert settings.effective_database_url == f"sqlite+aiosqlite:///{tmp_path / 'sendmako.db'}"
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.effective_public_url == "http://127.0.0.1:8000"


def test_plain_postgres_urls_get_the_async_driver() -> None:
    settings = make(database_url="postgresql://postgres@127.0.0.1/sendmako")
    assert settings.effective_database_url == "postgresql+asyncpg://postgres@127.0.0.1/sendmako"


@pytest.mark.parametrize(
    ("values", "fragment"),
    [
        ({"engines": "sandbox,whatsapp-web"}, "unknown engine 'whatsapp-web'"),
        ({"engines": "sandbox", "default_engine": "neonize"}, "SENDMAKO_DEFAULT_ENGINE"),
        ({"allow_private_hosts": "10.0.0.0/33"}, "not a valid CIDR"),
        ({"database_url": "mysql://root@localhost/x"}, "postgresql+asyncpg://"),
        ({"port": 70000}, "less than or equal to 65535"),
        ({"max_head_bytes": 100}, "greater than or equal to 4096"),
        ({"head_timeout_seconds": 0}, "greater than 0"),
        ({"body_gap_seconds": 0}, "greater than 0"),
        ({"body_min_rate": -1}, "greater than or equal to 0"),
        ({"max_connections": 0}, "greater than or equal to 1"),
        ({"backlog": 100_000}, "less than or equal to 65535"),
    ],
)
def test_invalid_settings_are_refused(values: dict[str, object], fragment: str) -> None:
    with pytest.raises(ValidationError) as caught:
        make(**values)
    assert fragment in str(caught.value)


def test_environment_and_nested_groups_are_read(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`load_settings` is the one reader of the environment; lists are comma-separated."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SENDMAKO_ENGINES", "sandbox")
    monkeypatch.setenv("SENDMAKO_DEFAULT_ENGINE", "sandbox")
    monkeypatch.setenv("SENDMAKO_ALLOW_PRIVATE_HOSTS", "127.0.0.1, files.internal")
    monkeypatch.setenv("SENDMAKO_SANDBOX__QR_ROTATE_SECONDS", "5")
    settings = load_settings()
    assert settings.allow_private_hosts == ["127.0.0.1", "files.internal"]
    assert settings.sandbox.qr_rotate_seconds == 5


def test_dotenv_file_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(
        "SENDMAKO_PORT=9001\nSENDMAKO_ENGINES=sandbox\nSENDMAKO_DEFAULT_ENGINE=sandbox\n"
    )
    assert load_settings().port == 9001


SERVER_LIMITS = (
    "max_head_bytes",
    "head_timeout_seconds",
    "refusal_linger_seconds",
    "body_gap_seconds",
    "body_min_rate",
    "body_rate_grace_seconds",
    "max_connections",
    "backlog",
    "keep_alive_seconds",
)


def test_env_example_documents_each_server_limit_with_its_default() -> None:
    example = Path(__file__).resolve().parent.parent / ".env.example"
    lines = example.read_text().splitlines()
    values = dict(line.split("=", 1) for line in lines if line.startswith("SENDMAKO_"))
    defaults = make()
    for name in SERVER_LIMITS:
        variable = f"SENDMAKO_{name.upper()}"
        assert float(values[variable]) == getattr(defaults, name), variable
        above = lines[lines.index(f"{variable}={values[variable]}") - 1]
        assert above.startswith("#") or above.startswith("SENDMAKO_"), variable  # commented
