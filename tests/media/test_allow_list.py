"""decrypt-media's host rule: WhatsApp's media hosts over https, the server's own sandbox
media URL, and what the operator adds."""

from __future__ import annotations

import pytest

from sendmako.media.fetch import sandbox_media_prefix
from sendmako.net.hosts import HostAllowList, parse_url
from sendmako.settings import DEFAULT_MEDIA_HOSTS

DEFAULT = HostAllowList.parse(
    DEFAULT_MEDIA_HOSTS, prefixes=[sandbox_media_prefix("http://127.0.0.1:8000")]
)


@pytest.mark.parametrize(
    "url",
    [
        "https://mmg.whatsapp.net/v/t62.7118-24/abc?ccb=11",
        "https://media-fra5-1.cdn.whatsapp.net/v/t62/abc",
        "https://MMG.WhatsApp.NET./d/f/abc.enc",
        "http://127.0.0.1:8000/media/sandbox/3f1c.enc",
    ],
)
def test_whatsapp_hosts_and_the_sandbox_are_allowed(url: str) -> None:
    """WhatsApp's CDN names over https, and our own sandbox media URL."""
    assert DEFAULT.allows(parse_url(url))


@pytest.mark.parametrize(
    "url",
    [
        "http://mmg.whatsapp.net/v/abc",  # https only
        "https://whatsapp.net.evil.example/v/abc",
        "https://evilwhatsapp.net/v/abc",
        "https://127.0.0.1:8000/media/sandbox/x",  # wrong scheme for the sandbox
        "http://127.0.0.1:8001/media/sandbox/x",  # wrong port
        "http://127.0.0.1:8000/api/whatsapp/sessions/",  # our server, not the media path
        "http://127.0.0.1:8000/media/sandbox/../../api/x",
        "http://127.0.0.1:8000/media/sandbox/%2e%2e/api/x",
    ],
)
def test_everything_else_is_refused(url: str) -> None:
    """Look-alike hosts, plain http, other paths of our own server, dot-segment escapes."""
    assert not DEFAULT.allows(parse_url(url))


def test_operator_entries_may_name_a_scheme_and_port() -> None:
    """`http://127.0.0.1` allows plain http to that host on any port; a port pins it."""
    rule = HostAllowList.parse(["http://127.0.0.1", "files.example:8443", "http://[::1]:9000"])
    assert rule.allows(parse_url("http://127.0.0.1:5555/a"))
    assert not rule.allows(parse_url("https://127.0.0.1/a"))
    assert rule.allows(parse_url("https://files.example:8443/a"))
    assert not rule.allows(parse_url("https://files.example/a"))
    assert rule.allows(parse_url("http://[::1]:9000/a"))


def test_an_entry_for_another_scheme_is_found_to_explain_a_refusal() -> None:
    """The entry that names a refused URL's host for another scheme only, as written."""
    rule = HostAllowList.parse(["127.0.0.1", "http://[::1]:9000"])
    plain = rule.other_scheme(parse_url("http://127.0.0.1:5555/a"))
    assert plain is not None
    assert (str(plain), plain.scheme, plain.place) == ("127.0.0.1", "https", "127.0.0.1")
    written = rule.other_scheme(parse_url("https://[::1]:9000/a"))
    assert written is not None
    assert str(written) == "http://[::1]:9000"
    assert rule.other_scheme(parse_url("http://files.example/a")) is None
