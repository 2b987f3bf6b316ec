"""The original documentation's send examples work unchanged against a real server, on a
sandbox session (media URLs point at a local file server the operator allowed)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests import media_samples
from tests.contract import original_messages as doc
from tests.contract.live import LiveServer, serve
from tests.fileserver import serving

pytestmark = pytest.mark.slow

FILES = {
    "/photo.jpg": ("image/jpeg", media_samples.png(120, 80)),
    "/clip.mp4": ("video/mp4", media_samples.mp4()),
    "/audio.mp3": ("audio/mpeg", media_samples.tone("mp3", "libmp3lame")),
    "/facture.pdf": ("application/pdf", b"%PDF-1.4\n% facture\n"),
}


@pytest.fixture(scope="module")
def files() -> Iterator[str]:
    with serving(FILES) as base:
        yield base


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, files: str) -> Iterator[LiveServer]:
    data_dir: Path = tmp_path_factory.mktemp("live")
    with serve(data_dir, SENDMAKO_ALLOW_PRIVATE_HOSTS="127.0.0.1") as server:
        auth = {"Authorization": f"Bearer {server.admin_key}"}
        created = requests.post(
            f"{server.url}/api/whatsapp/sessions/",
            headers=auth,
            json={"session_name": "x"},
            timeout=10,
        ).json()
        session_id = created["session_id"]
        requests.get(
            f"{server.url}/api/whatsapp/sessions/{session_id}/?wait_for=qr_ready&timeout=10",
            headers=auth,
            timeout=15,
        )
        requests.post(
            f"{server.url}/api/sandbox/sessions/{session_id}/scan",
            headers=auth,
            json={"phone_number": "+33 6 12 34 56 78"},
            timeout=10,
        ).raise_for_status()
        requests.patch(
            f"{server.url}/api/whatsapp/sessions/{session_id}",
            headers=auth,
            json={"pacing_ms": 0},
            timeout=10,
        ).raise_for_status()
        yield server


def with_files(snippet: str, files: str) -> str:
    return snippet.replace("https://example.com", files)


def sent_log(live: LiveServer) -> list[dict[str, object]]:
    answer = requests.get(
        f"{live.url}/api/sandbox/sessions/user_1/sent",
        headers={"Authorization": f"Bearer {live.admin_key}"},
        timeout=10,
    )
    messages: list[dict[str, object]] = answer.json()["messages"]
    return messages


NODE = pytest.mark.skipif(
    shutil.which("node") is None, reason="Node.js is absent (.ci/run installs it)"
)
RUNNERS = ["curl", "python", pytest.param("javascript", marks=NODE)]


def run(live: LiveServer, runner: str, snippet: str) -> Any:
    """What the documented snippet got back, as JSON."""
    if runner == "curl":
        return live.curl(snippet)
    if runner == "javascript":
        return live.javascript(snippet)
    result = live.python(snippet)
    return result if isinstance(result, dict) else result.json()


@pytest.mark.parametrize("kind", ["TEXT", "IMAGE", "VIDEO", "AUDIO", "DOCUMENT", "LOCATION"])
@pytest.mark.parametrize("runner", RUNNERS)
def test_send_message_examples(live: LiveServer, files: str, kind: str, runner: str) -> None:
    """Each documented send answers success with a WhatsApp message id, and the message of
    that type leaves the sandbox session."""
    snippet = with_files(getattr(doc, f"{kind}_{runner.upper()}"), files)
    before = len(sent_log(live))
    answer = run(live, runner, snippet)
    assert answer["success"] is True, answer
    assert str(answer["message_id"]).startswith("3EB0")
    assert answer["to"] == "22241857975"
    after = sent_log(live)
    assert len(after) == before + 1
    assert after[-1]["type"] == kind.lower()
    assert after[-1]["message_id"] == answer["message_id"]


@pytest.mark.parametrize("runner", RUNNERS)
def test_bulk_example(live: LiveServer, runner: str) -> None:
    """The documented answer: success, a summary of 3 sent and 0 failed, one result per
    recipient in order (each with extra fields the contract allows)."""
    answer = run(live, runner, getattr(doc, f"BULK_{runner.upper()}"))
    assert answer["success"] is True
    assert {k: answer["summary"][k] for k in ("total", "sent", "failed")} == {
        "total": 3,
        "sent": 3,
        "failed": 0,
    }
    assert [(r["to"], r["success"]) for r in answer["results"]] == [
        ("22241857975", True),
        ("221781234567", True),
        ("237691234567", True),
    ]
