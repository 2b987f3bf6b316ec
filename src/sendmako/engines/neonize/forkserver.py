"""The template process: Python and everything a worker imports, loaded once, then forked
into one worker per session.

    python -m sendmako.engines.neonize.forkserver --fd N     (started by the server)

A worker's Python side (interpreter, our modules, neonize's protobufs and helpers, PIL,
libmagic) is the same in every worker: loaded here once, its pages are shared by every
child until one of them writes to a page. Measured with `bench/bench_neonize_memory.py`,
that is about 33 MiB of a 40 MiB idle worker (README "Session density").

neonize's Go library is not loaded here: a Go runtime starts threads when its library is
loaded, and threads do not survive a fork. `neonize/__init__.py` imports its client, which
loads the library, so the package is entered here without running its `__init__`; each
child runs it after the fork (`worker.py` imports the connection at `start`).

The template itself never runs a session, never touches the network and never loads Go:
it is as unlikely to crash as a process can be. If it does, workers already forked keep
running (they are their own sessions, `setsid`), and the server starts a new template for
the next worker.

Requests over the control socket (SOCK_SEQPACKET, one JSON object per message):

    server -> template  {"op": "fork", "id": 7}  + 2 fds: the worker's socket, its stdout
    template -> server  {"op": "forked", "id": 7, "pid": 1234}
                        {"op": "fork_failed", "id": 7, "error": "..."}
                        {"op": "exited", "pid": 1234, "returncode": -9}

The template reaps its children and reports how each ended (`returncode` as asyncio
gives it: negative for a signal).
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import gc
import importlib
import importlib.util
import json
import os
import selectors
import signal
import socket
import sys
import types
from pathlib import Path
from typing import Any, NoReturn

from sendmako.engines.neonize import blocked

MAX_MESSAGE = 4096
WORKER_ROOTS = ("worker", "connection", "commands")  # where a worker's imports start
# Never imported here: they load Go (`_binder`, the client and whatever imports them).
GO_LOADERS = (
    "neonize._binder",
    "neonize.client",
    "neonize.aioze",
    "sendmako.engines.neonize.connection",
    "sendmako.engines.neonize.commands",
    "sendmako.engines.neonize.patches",
)


# -- preloading ---------------------------------------------------------------------------


def preload() -> list[str]:
    """Import what a worker will import, except Go; the modules that failed to import."""
    blocked.block()
    import sendmako.engines.neonize.worker  # noqa: F401 - the worker's own top imports

    _enter_neonize_without_init()
    failed = []
    for name, attributes in _worker_imports().items():
        try:
            module = importlib.import_module(name)
            for attribute in attributes:
                # Some packages import on first access (concurrent.futures'
                # ProcessPoolExecutor brings in multiprocessing): done here, once.
                getattr(module, attribute, None)
        except Exception:  # noqa: BLE001 - a broken optional module is the child's to meet
            failed.append(name)
    _cache_platform_name()
    # Objects that exist now live as long as the process: out of the collector's sight, a
    # child's collections do not write to (and so copy) the pages they sit on.
    gc.collect()
    gc.freeze()
    return failed


def _enter_neonize_without_init() -> None:
    """Make `neonize` a package whose submodules import, without its `__init__` (which
    loads Go). `finish_neonize` runs that `__init__` in the child."""
    if "neonize" in sys.modules:
        return
    spec = importlib.util.find_spec("neonize")
    assert spec is not None
    assert spec.submodule_search_locations is not None
    package = types.ModuleType("neonize")
    package.__spec__ = spec
    package.__file__ = spec.origin
    package.__path__ = list(spec.submodule_search_locations)
    package.__package__ = "neonize"
    sys.modules["neonize"] = package


def _cache_platform_name() -> None:
    """neonize names its Go library by running `uname -a` twice at import: asked once
    here, the answer is what every child's import gets."""
    platform = sys.modules.get("neonize.utils.platform")
    if platform is not None and hasattr(platform, "generated_name"):
        name = platform.generated_name()

        def generated_name(os_name: str = "", arch_name: str = "") -> str:
            return str(name) if not (os_name or arch_name) else str(original(os_name, arch_name))

        original = platform.generated_name
        setattr(platform, "generated_name", generated_name)  # noqa: B010 - a module's function


def finish_neonize() -> None:
    """In a child: run `neonize/__init__.py` (loading Go), as a plain import would have."""
    package = sys.modules.get("neonize")
    spec = getattr(package, "__spec__", None)
    if package is None or spec is None or spec.origin is None or hasattr(package, "NewClient"):
        return
    code = compile(Path(spec.origin).read_bytes(), spec.origin, "exec")
    exec(code, package.__dict__)  # noqa: S102 - neonize's own __init__, from its own file


def _worker_imports() -> dict[str, list[str]]:
    """The modules the worker's code and neonize's client import, with the names imported
    from each, read from their source (importing them would load Go): our worker-side
    modules, followed from `worker.py`, `connection.py` and `commands.py`, then neonize's
    `__init__` and client."""
    ours = Path(__file__).parent
    package = "sendmako.engines.neonize"
    todo = [ours / f"{name}.py" for name in WORKER_ROOTS]
    done: set[Path] = set()
    found: list[tuple[str, str | None]] = []
    while todo:
        path = todo.pop()
        if path in done or not path.exists():
            continue
        done.add(path)
        for name, attribute in _imports_of(path, package):
            found.append((name, attribute))
            if name.startswith(f"{package}."):
                todo.append(ours / f"{name.rsplit('.', 1)[1]}.py")
    neonize_spec = importlib.util.find_spec("neonize")
    if neonize_spec is not None and neonize_spec.origin is not None:
        root = Path(neonize_spec.origin).parent
        for path in (root / "__init__.py", root / "client.py"):
            found += _imports_of(path, "neonize")
    imports: dict[str, list[str]] = {}
    for name, attribute in found:
        # Filtered before `find_spec`, which imports a dotted name's parents.
        if not name or name == "__future__" or name.startswith(GO_LOADERS):
            continue
        if attribute is not None and _is_module(f"{name}.{attribute}"):
            if not f"{name}.{attribute}".startswith(GO_LOADERS):
                imports.setdefault(f"{name}.{attribute}", [])
        elif _is_module(name):
            attributes = imports.setdefault(name, [])
            if attribute is not None:
                attributes.append(attribute)
    return imports


def _imports_of(path: Path, package: str) -> list[tuple[str, str | None]]:
    """(module, name imported from it or None) for each import statement of a file."""
    found: list[tuple[str, str | None]] = []
    for node in ast.walk(ast.parse(path.read_bytes(), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0]
                base = f"{parent}.{base}" if base else parent
            found += [(base, alias.name) for alias in node.names if alias.name != "*"]
    return found


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError, AttributeError):
        return False


# -- after the fork -----------------------------------------------------------------------


def _restart_neonize_log_thread() -> None:
    """neonize starts a thread at import to pass whatsmeow's logs on; threads do not
    survive a fork, so the child starts its own, on a fresh queue."""
    log = sys.modules.get("neonize.utils.log")
    if log is None:
        return
    import queue
    import threading

    log._log_queue = queue.Queue()  # type: ignore[attr-defined]
    thread = threading.Thread(target=log._worker, daemon=True)
    log._thread = thread  # type: ignore[attr-defined]
    thread.start()


def _child(channel_fd: int, stdout_fd: int, log_level: str) -> NoReturn:
    code = 1
    try:
        os.setsid()  # like a spawned worker: a Ctrl+C on the server's terminal skips it
        # Its command line is the template's: its name, at least, says what it is (top, ps -o comm).
        with contextlib.suppress(OSError):
            Path("/proc/self/comm").write_text("sendmako-worker")
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        os.dup2(stdout_fd, 1)
        os.dup2(stdout_fd, 2)
        os.close(stdout_fd)
        _restart_neonize_log_thread()
        finish_neonize()  # loads Go: this process's own runtime, started after the fork
        from sendmako.engines.neonize import worker

        worker.serve(channel_fd, log_level)
        code = 0
    except BaseException as exc:  # noqa: BLE001 - a child must never return into the template
        with contextlib.suppress(Exception):
            print(f"worker failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


# -- the template's loop ------------------------------------------------------------------


class ForkServer:
    def __init__(self, control: socket.socket, log_level: str) -> None:
        self.control = control
        self.log_level = log_level
        self.selector = selectors.DefaultSelector()
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_write, False)
        os.set_blocking(self._wake_read, False)

    def serve(self) -> None:
        signal.signal(signal.SIGCHLD, lambda _signum, _frame: None)
        signal.set_wakeup_fd(self._wake_write)
        self.selector.register(self.control, selectors.EVENT_READ, "control")
        self.selector.register(self._wake_read, selectors.EVENT_READ, "children")
        while True:
            for key, _ in self.selector.select():
                if key.data == "children":
                    with contextlib.suppress(BlockingIOError):
                        os.read(self._wake_read, 512)
                    self._reap()
                elif not self._on_control():
                    return  # the server is gone; the workers go when their sockets close

    def _on_control(self) -> bool:
        try:
            data, fds, _flags, _addr = socket.recv_fds(self.control, MAX_MESSAGE, 2)
        except InterruptedError:
            return True
        except OSError:
            return False
        if not data:
            return False
        request = json.loads(data)
        if request.get("op") != "fork" or len(fds) != 2:
            for fd in fds:
                os.close(fd)
            self._tell({"op": "fork_failed", "id": request.get("id"), "error": "bad request"})
            return True
        channel_fd, stdout_fd = fds
        try:
            pid = os.fork()
        except OSError as exc:
            os.close(channel_fd)
            os.close(stdout_fd)
            self._tell({"op": "fork_failed", "id": request["id"], "error": str(exc)})
            return True
        if pid == 0:
            self._leave()
            _child(channel_fd, stdout_fd, self.log_level)
        os.close(channel_fd)
        os.close(stdout_fd)
        self._tell({"op": "forked", "id": request["id"], "pid": pid})
        return True

    def _leave(self) -> None:
        """In the child: drop everything of the template's."""
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        self.selector.close()
        self.control.close()
        os.close(self._wake_read)
        os.close(self._wake_write)

    def _reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            returncode = os.waitstatus_to_exitcode(status)
            self._tell({"op": "exited", "pid": pid, "returncode": returncode})

    def _tell(self, message: dict[str, Any]) -> None:
        with contextlib.suppress(OSError):
            self.control.send(json.dumps(message).encode())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sendmako.engines.neonize.forkserver")
    parser.add_argument("--fd", type=int, required=True, help="the control socket")
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    control = socket.socket(fileno=args.fd)
    failed = preload()
    if failed:
        print(f"template: not preloaded: {', '.join(failed)}", flush=True)
    control.send(json.dumps({"op": "ready", "pid": os.getpid()}).encode())
    ForkServer(control, args.log_level).serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
