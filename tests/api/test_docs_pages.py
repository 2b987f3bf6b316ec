"""/docs and /redoc load nothing from another host: their scripts and styles are served
here, and a Content-Security-Policy forbids any other host's code."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from tests.harness import Server


class _References(HTMLParser):
    """Every URL a page makes the browser load: script, stylesheet, icon, image."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script":
            if found.get("src"):
                self.urls.append(found["src"] or "")
            else:
                self.inline_scripts += 1
        elif tag == "link" and found.get("href"):
            self.urls.append(found["href"] or "")
        elif tag in ("img", "iframe") and found.get("src"):
            self.urls.append(found["src"] or "")
        for name, value in attrs:
            assert not name.startswith("on"), f"inline handler {name}={value}"
        assert "style" not in found, "inline style attribute"


def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for part in policy.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
async def test_the_docs_pages_load_only_from_this_server(server: Server, path: str) -> None:
    client = server.client()
    page = await client.get(path)
    assert page.status_code == 200
    references = _References()
    references.feed(page.text)
    assert references.inline_scripts == 0
    assert len(references.urls) >= 2
    for url in references.urls:
        assert urlsplit(url).netloc == "", url  # this origin
        assert url.startswith("/"), url
        asset = await client.get(url)
        assert asset.status_code == 200, url
        assert asset.content, url

    policy = directives(page.headers["content-security-policy"])
    assert policy["default-src"] == ["'none'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["connect-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    if path == "/docs":
        assert policy["style-src"] == ["'self'"]
    assert page.headers["x-content-type-options"] == "nosniff"


async def test_the_docs_assets_are_what_the_pages_expect(server: Server) -> None:
    client = server.client()
    script = await client.get("/docs/assets/swagger-ui-bundle.js")
    assert script.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    assert b"SwaggerUIBundle" in script.content
    init = await client.get("/docs/assets/swagger-init.js")
    assert b"validatorUrl: null" in init.content
    assert (
        (await client.get("/docs/assets/swagger-ui.css"))
        .headers["content-type"]
        .startswith("text/css")
    )
