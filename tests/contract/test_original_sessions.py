"""The original documentation's session examples work unchanged against a real server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.contract import original_sessions as doc
from tests.contract.live import LiveServer, serve

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir: Path = tmp_path_factory.mktemp("live")
    with serve(data_dir) as server:
        yield server


def scan(live: LiveServer, session_id: str) -> None:
    answer = requests.post(
        f"{live.url}/api/sandbox/sessions/{session_id}/scan",
        headers={"Authorization": f"Bearer {live.admin_key}"},
        json={"phone_number": "22241857975"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("runner", ["curl", "python"])
def test_session_examples_in_order(live: LiveServer, runner: str) -> None:
    """List, create, status, rename, delete: each example as documented, each answer in the
    documented shape."""
    run = live.curl if runner == "curl" else live.python
    example = {
        name: getattr(doc, f"{name}_{runner.upper()}")
        for name in ("LIST", "CREATE", "STATUS", "RENAME", "DELETE")
    }

    assert run(example["LIST"]) == []

    created = run(example["CREATE"])
    assert created == {
        "success": True,
        "id": created["id"],
        "session_id": "user_1",
        "session_name": "Professionnel",
        "status": "connecting",
        "engine": "sandbox",
    }

    status = run(example["STATUS"])
    assert status["status"] in ("connecting", "qr_ready")
    assert status["qr"] is None or status["qr"].startswith("data:image/png;base64,iVBO")

    listed = run(example["LIST"])
    assert [s["session_name"] for s in listed] == ["Professionnel"]
    assert set(listed[0]) >= {"id", "session_id", "session_name", "status", "phone_number", "qr"}

    renamed = run(example["RENAME"])
    body = renamed if runner == "curl" else renamed.json()
    # The documented fields, exactly; the contract allows extra ones.
    assert {key: body[key] for key in ("success", "session_name")} == {
        "success": True,
        "session_name": "Ma ligne pro",
    }

    deleted = run(example["DELETE"])
    body = deleted if runner == "curl" else deleted.json()
    assert body == {"success": True}
    assert run(example["LIST"]) == []


def test_status_example_when_connected(live: LiveServer) -> None:
    """Once scanned, the status example shows `{"status": "connected", "qr": null}`."""
    live.curl(doc.CREATE_CURL)
    waited = requests.get(
        f"{live.url}/api/whatsapp/sessions/user_1/?wait_for=qr_ready&timeout=10",
        headers={"Authorization": f"Bearer {live.admin_key}"},
        timeout=15,
    ).json()
    assert waited["status"] == "qr_ready"
    scan(live, "user_1")
    status = live.curl(doc.STATUS_CURL)
    assert (status["status"], status["qr"], status["phone_number"]) == (
        "connected",
        None,
        "22241857975",
    )
    live.curl(doc.DELETE_CURL)
