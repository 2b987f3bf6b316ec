"""French and English: complete catalogues, every string through them, the language chosen
from the browser and switchable."""

from __future__ import annotations

import re
import string
from importlib import resources
from pathlib import Path

import pytest

from sendmako.dashboard import i18n
from sendmako.inbound.registry import WEBHOOKS as EVENTS
from sendmako.model.messages import MessageType
from sendmako.model.statuses import SessionStatus
from sendmako.settings import KNOWN_ENGINES
from tests.dashboard.client import Dashboard, member
from tests.harness import Server

PACKAGE = Path(str(resources.files("sendmako.dashboard")))
TEMPLATES = sorted((PACKAGE / "templates").glob("*.html"))
SOURCES = sorted(PACKAGE.rglob("*.py"))
KEY_USE = re.compile(r"""\bt\(\s*['"]([a-z_]+\.[a-z_0-9]+)['"]""")


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_both_catalogues_have_the_same_keys_and_placeholders() -> None:
    en, fr = i18n.CATALOGUES["en"], i18n.CATALOGUES["fr"]
    assert sorted(set(en) ^ set(fr)) == []
    for key, text in en.items():
        assert _placeholders(text) == _placeholders(fr[key]), key
        assert text.strip(), key
        assert fr[key].strip(), key


def test_every_key_the_dashboard_uses_exists() -> None:
    used = set()
    for path in [*TEMPLATES, *SOURCES]:
        used |= set(KEY_USE.findall(path.read_text()))
    # Keys built at run time from a prefix and a value.
    used |= {f"status.{status.value}" for status in SessionStatus}
    used |= {f"engine.{engine}" for engine in KNOWN_ENGINES}
    used |= {"usage.sessions", "usage.messages_today", "usage.sessions_limit"}
    used |= {f"sandbox.done_{reason}" for reason in ("connection_lost", "logged_out")}
    used |= {"error.title_403", "error.title_404", "error.title_429", "error.title"}
    used |= {f"webhooks.event_{name.replace('.', '_')}" for name in EVENTS}
    used |= {f"delivery.{status}" for status in ("pending", "succeeded", "failed")}
    used |= {f"msgtype.{kind.value}" for kind in MessageType}
    missing = sorted(key for key in used if key not in i18n.CATALOGUES["en"])
    assert missing == []
    assert len(used) > 150


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: path.name)
def test_templates_hold_no_words_of_their_own(template: Path) -> None:
    """What a person reads comes from the catalogues: outside Jinja expressions, comments
    and code samples, a template's text and visible attributes carry no words."""
    source = template.read_text()
    source = re.sub(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", " ", source, flags=re.S)
    source = re.sub(r"<pre\b.*?</pre>", " ", source, flags=re.S)
    attributes = re.findall(r'\b(?:placeholder|title|alt|aria-label)="([^"]*)"', source)
    text = re.sub(r"<[^>]+>", " ", source)
    allowed = {"Sendmako", "ABCD", "EFGH"}
    words = set(re.findall(r"[A-Za-zÀ-ÿ]{2,}", " ".join([text, *attributes])))
    assert sorted(words - allowed) == []


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("fr-FR,fr;q=0.9,en-US;q=0.8,en;q=0.7", "fr"),
        ("fr-CA", "fr"),
        ("de-DE,de;q=0.9,fr;q=0.5,en;q=0.4", "fr"),
        ("en;q=0, fr", "fr"),
        ("en-GB,fr;q=0.8", "en"),
        ("es", "en"),
        ("", "en"),
        ("garbage;q=x,,;", "en"),
    ],
)
def test_the_browser_language_is_followed(header: str, expected: str) -> None:
    assert i18n.choose(None, header) == expected


def test_the_chosen_language_wins_over_the_browser() -> None:
    assert i18n.choose("en", "fr-FR") == "en"
    assert i18n.choose("xx", "fr-FR") == "fr", "an unknown cookie value is ignored"


def test_numbers_are_grouped_the_way_each_language_writes_them() -> None:
    assert i18n.format_count(20000, "en") == "20,000"
    assert i18n.format_count(20000, "fr") == "20\u202f000"


async def test_a_french_browser_gets_french_pages_and_can_switch(server: Server) -> None:
    french = Dashboard(server, language="fr-FR,fr;q=0.9")
    login = await french.get("/dashboard/login")
    assert '<html lang="fr">' in login.text
    assert "<h1>Connexion</h1>" in login.text
    wrong = await french.login("nobody@example.com", "wrong password")
    assert "E-mail ou mot de passe incorrect." in wrong.text

    _, dashboard = await member(server, "alice@example.com")
    dashboard.http.headers["Accept-Language"] = "fr"
    page = await dashboard.get("/dashboard/keys")
    assert "<h1>Clés API</h1>" in page.text
    switched = await dashboard.post(
        "/dashboard/language", {"lang": "en", "next": "/dashboard/keys"}
    )
    assert switched.response.headers["location"] == "/dashboard/keys"
    page = await dashboard.get("/dashboard/keys")
    assert '<html lang="en">' in page.text
    assert "<h1>API keys</h1>" in page.text
    sessions = await dashboard.get("/dashboard/sessions")
    assert "<h1>Sessions</h1>" in sessions.text
    assert "No session yet." in sessions.text


async def test_service_errors_are_translated(server: Server) -> None:
    _, dashboard = await member(server, "alice@example.com")
    await dashboard.post("/dashboard/language", {"lang": "fr", "next": "/dashboard/sessions"})
    page = await dashboard.get("/dashboard/sessions/user_99")
    assert page.status == 404
    assert "Cette session n'existe pas." in page.text
    bad = await dashboard.post("/dashboard/sessions", {"session_name": "x" * 101})
    assert "Nom : 100 caractères au plus." in bad.text
