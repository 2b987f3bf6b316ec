"""The neonize engine is on by default, and `.env.example` documents its settings."""

from __future__ import annotations

from pathlib import Path

from sendmako.settings import Settings

ROOT = Path(__file__).resolve().parents[3]


def test_real_whatsapp_is_the_default_engine_beside_the_sandbox() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert (settings.engines, settings.default_engine) == (["neonize", "sandbox"], "neonize")


def test_env_example_loads_and_covers_every_neonize_setting() -> None:
    example = (ROOT / ".env.example").read_text()
    settings = Settings(_env_file=ROOT / ".env.example")  # type: ignore[call-arg]
    assert settings.neonize.qr_timeout_seconds == 165
    assert not settings.neonize.proxy
    for name in type(settings.neonize).model_fields:
        assert f"SENDMAKO_NEONIZE__{name.upper()}=" in example
