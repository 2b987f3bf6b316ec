"""A real `sendmako serve` process on a free loopback port, and runners that replay the
original documentation's examples against it with only the base URL and the key changed."""

from __future__ import annotations

import ast
import contextlib
import io
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from sendmako.model.send_policy import SendPolicy
from tests.contract import original_sessions as doc

UNLIMITED_POLICY = json.dumps(SendPolicy.unlimited().to_stored())

STARTUP_TIMEOUT = 30


@dataclass
class LiveServer:
    url: str
    admin_key: str
    process: subprocess.Popen[str]

    def adapt(self, snippet: str, key: str | None = None) -> str:
        return snippet.replace(doc.BASE_URL, self.url).replace(doc.KEY, key or self.admin_key)

    def curl(self, command: str, key: str | None = None) -> Any:
        """Run a documented curl command (line continuations restored) and parse its JSON."""
        script = self.adapt(command, key).replace("\\ ", "\\\n")
        done = subprocess.run(
            ["/bin/bash", "-c", script + " --silent --show-error"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        return json.loads(done.stdout)

    def python(self, snippet: str, key: str | None = None) -> Any:
        """Run a documented `requests` snippet. Returns what it printed, parsed back, or
        else the value of its last expression, or else its `r`."""
        tree = ast.parse(self.adapt(snippet, key))
        last = tree.body[-1]
        if isinstance(last, ast.Expr) and not _is_print(last):
            tree.body[-1] = ast.Assign(targets=[ast.Name("_result", ast.Store())], value=last.value)
            ast.fix_missing_locations(tree)
        printed = io.StringIO()
        namespace: dict[str, Any] = {"requests": requests}
        with contextlib.redirect_stdout(printed):
            exec(compile(tree, "<documented example>", "exec"), namespace)  # noqa: S102
        out = printed.getvalue().strip()
        if out:
            return ast.literal_eval(out)
        return namespace.get("_result", namespace.get("r"))

    def javascript(self, snippet: str, key: str | None = None) -> Any:
        """Run a documented `fetch` snippet with Node (an ES module: top-level await, as the
        snippets use). Returns the JSON of the last answer `fetch` got, which a wrapper
        around it keeps: most snippets do not print it."""
        answer_mark = "\n__ANSWER__"
        script = (
            "const documentedFetch = globalThis.fetch;\n"
            "globalThis.fetch = async (...args) => {\n"
            "  const answer = await documentedFetch(...args);\n"
            "  globalThis.lastAnswer = await answer.clone().json();\n"
            "  return answer;\n"
            "};\n"
            f"{self.adapt(snippet, key)}\n"
            f"process.stdout.write({json.dumps(answer_mark)}"
            " + JSON.stringify(globalThis.lastAnswer));\n"
        )
        done = subprocess.run(
            ["node", "--input-type=module", "-e", script],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        return json.loads(done.stdout.rpartition(answer_mark.strip())[2])


def _is_print(statement: ast.Expr) -> bool:
    call = statement.value
    return (
        isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "print"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def serve(data_dir: Path, **env: str) -> Iterator[LiveServer]:
    port = int(env.pop("SENDMAKO_PORT", 0)) or free_port()
    environment = {
        **os.environ,
        "SENDMAKO_DATA_DIR": str(data_dir),
        "SENDMAKO_PORT": str(port),
        "SENDMAKO_ENGINES": "sandbox",
        "SENDMAKO_DEFAULT_ENGINE": "sandbox",
        "SENDMAKO_LOG_FORMAT": "json",
        # Tests of other behaviour neither wait on the send policy nor hit its caps
        # (tests/api/test_send_policy.py pins the careful defaults).
        "SENDMAKO_SEND_POLICY": UNLIMITED_POLICY,
        **env,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "sendmako", "serve"],
        env=environment,
        cwd=data_dir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        key = _wait_until_serving(process, data_dir, port)
        yield LiveServer(url=f"http://127.0.0.1:{port}", admin_key=key, process=process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()


def _wait_until_serving(process: subprocess.Popen[str], data_dir: Path, port: int) -> str:
    """The admin key (printed at the first start, remembered in the data directory for
    restarts), once the server says it accepts connections."""
    assert process.stdout is not None
    remembered = data_dir / "admin-key.txt"
    key = remembered.read_text() if remembered.exists() else ""
    seen: list[str] = []
    for line in process.stdout:
        seen.append(line)
        if "API key:" in line:
            key = line.split("API key:")[1].strip()
            remembered.write_text(key)
        if f"Sendmako ready on http://127.0.0.1:{port}" in line:
            if not key:
                raise RuntimeError("the server started without printing the first admin key")
            _drain(process)
            return key
    raise RuntimeError("the server exited during start-up:\n" + "".join(seen[-40:]))


def _drain(process: subprocess.Popen[str]) -> None:
    """Keep reading the server's output so it never blocks on a full pipe."""
    stdout = process.stdout
    assert stdout is not None

    def read() -> None:
        with contextlib.suppress(ValueError, OSError):
            for _line in stdout:
                pass

    threading.Thread(target=read, daemon=True).start()
