"""`sendmako send`, `bulk`, `events` and `sessions` against a running server, with the URL
and the key from the environment."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from sendmako.cli import main
from sendmako.client import Client
from tests import media_samples
from tests.client.conftest import Linked
from tests.client.sse_server import sample_events, sse_server


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, linked: Linked) -> Linked:
    monkeypatch.setenv("SENDMAKO_URL", linked.server.url)
    monkeypatch.setenv("SENDMAKO_API_KEY", linked.key)
    return linked


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def sent_by(linked: Linked) -> dict[str, str]:
    with Client(linked.server.url, linked.key) as sendmako:
        return {m.message_id: m.type for m in sendmako.sandbox_sent(linked.session_id)}


def test_send_text_through_a_sandbox_session(
    env: Linked, capsys: pytest.CaptureFixture[str]
) -> None:
    """`sendmako send TO TEXT` sends through the key's connected session and says so."""
    code, out, _ = run(capsys, "send", "+222 41 85 79 75", "Bonjour de la CLI", "--json")
    assert code == 0
    answer = json.loads(out)
    assert answer["session_id"] == env.session_id
    assert sent_by(env)[answer["message_id"]] == "text"


def test_send_a_file_from_disk(
    env: Linked, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`--image PATH` reads the file and sends it inline, with its caption."""
    photo = tmp_path / "photo.png"
    photo.write_bytes(media_samples.png())
    code, out, err = run(capsys, "send", "22241857975", "--image", str(photo), "--caption", "Vue")
    assert code == 0, err
    assert out.startswith("Sent image ")
    message_id = out.split()[2]
    assert sent_by(env)[message_id] == "image"


def test_send_other_types(env: Linked, capsys: pytest.CaptureFixture[str]) -> None:
    """Location, contact card and poll are options of the same command."""
    for options in (
        ["--location", "18.0858,-15.9785", "--name", "Nouakchott"],
        ["--contact", "Awa Diop,+22241850002"],
        ["--poll", "Quel jour ?", "--option", "Lundi", "--option", "Mardi"],
    ):
        code, out, err = run(capsys, "send", "22241857975", *options, "--json")
        assert code == 0, err
        assert json.loads(out)["message_id"] in sent_by(env)


def test_send_refusals_are_one_line_and_an_exit_status(
    env: Linked, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing to send or two things: usage error (2); the API's refusal: its message and
    code (1); no key: says how to get one (2)."""
    code, _, err = run(capsys, "send", "22241857975")
    assert code == 2
    assert "say what to send" in err
    code, _, err = run(capsys, "send", "22241857975", "texte", "--poll", "Q")
    assert code == 2

    code, _, err = run(capsys, "send", "22241850000", "Allô ?")
    assert code == 1
    assert "not_on_whatsapp" in err
    assert "Traceback" not in err

    monkeypatch.delenv("SENDMAKO_API_KEY")
    code, _, err = run(capsys, "sessions")
    assert code == 2
    assert "SENDMAKO_API_KEY" in err


def test_bulk_from_a_file_with_progress(
    env: Linked, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Recipients come from a file (header, comments and blank lines skipped); progress
    goes to stderr while it runs; a failed recipient is reported and sets the exit status."""
    recipients = tmp_path / "clients.csv"
    recipients.write_text(
        "phone,name\n# the shop's regulars\n22241857975,Awa\n\n+222 41 85 79 76,Moussa\n"
        "22241850000,Absent\n"
    )
    code, out, err = run(capsys, "bulk", str(recipients), "Promo -20 %")
    assert code == 1
    progress = [line for line in err.splitlines() if line.startswith("[")]
    assert progress[-1].endswith("3/3 (1 failed)")
    assert len(progress) >= 1
    assert "22241850000" in out
    assert "Sent 2 of 3; 1 failed." in err
    texts = [m for m in sent_by(env).values() if m == "text"]
    assert len(texts) >= 2


def test_sessions_lists_the_keys_sessions(env: Linked, capsys: pytest.CaptureFixture[str]) -> None:
    """`sendmako sessions` is a table of the key's sessions."""
    code, out, _ = run(capsys, "sessions")
    assert code == 0
    header, *rows = out.splitlines()
    assert header.split("\t") == ["SESSION", "NAME", "STATUS", "NUMBER"]
    assert [row.split("\t")[0] for row in rows] == [env.session_id]
    assert rows[0].split("\t")[2] == "connected"
    code, out, _ = run(capsys, "sessions", "show", env.session_id)
    assert json.loads(out)["status"] == "connected"


async def test_events_prints_one_json_line_per_event(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`sendmako events` follows the stream across a reconnection (against a loopback SSE
    server of the test's own: GET /api/events is built on another branch)."""
    events = sample_events(4)
    async with sse_server(events, per_connection=3, key="wsa_k") as server:
        monkeypatch.setenv("SENDMAKO_URL", server.url)
        monkeypatch.setenv("SENDMAKO_API_KEY", "wsa_k")
        code = await asyncio.to_thread(
            main, ["events", "--event", "message.received", "--since", "evt_0", "--count", "3"]
        )
    assert code == 0
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["evt_1", "evt_2", "evt_3"]
    assert [r.get("last-event-id") for r in server.requests] == ["evt_0"]
