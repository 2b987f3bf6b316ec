"""`NeonizeSession`: one WhatsApp number, as the `SessionManager` sees it, run by a
supervised worker process (`supervisor.py`).

The session keeps the status it last reported, so sends are refused (503, naming the
session) without bothering a worker that is not connected, and it owns the QR expiry
timer: whatsmeow does not say when its QR codes run out, so after `qr_timeout_seconds`
without a scan the login starts over in a fresh worker.
"""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sendmako import log
from sendmako.engines.base import EngineSession, EventSink, SessionSpec, performs
from sendmako.engines.neonize.actions import WORKER_ACTIONS
from sendmako.engines.neonize.process import Exit, WorkerProcess
from sendmako.engines.neonize.protocol import EventFrame, Frame, LogFrame
from sendmako.engines.neonize.supervisor import Supervisor
from sendmako.errors import OperationFailed, Unavailable
from sendmako.model.actions import Action, RequestPairCode, Send
from sendmako.model.events import (
    EngineEvent,
    PairCodeIssued,
    QrCodeChanged,
    StatusChanged,
)
from sendmako.model.messages import OutgoingMessage
from sendmako.model.statuses import SessionStatus

if TYPE_CHECKING:
    from sendmako.engines.neonize.engine import NeonizeEngine

logger = log.get(__name__)
T = TypeVar("T")

# How long a request may take in the worker (whatsmeow's own network timeouts are ~75 s).
SEND_TIMEOUT_SECONDS = 300.0  # a 70 MB upload on a slow line
REQUEST_TIMEOUT_SECONDS = 90.0
_LOG_LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40, "critical": 50}


class NeonizeSession(EngineSession):
    def __init__(self, spec: SessionSpec, sink: EventSink, engine: NeonizeEngine) -> None:
        super().__init__(spec, sink)
        self.engine = engine
        self.status = SessionStatus.CONNECTING
        self.detail: str | None = None
        self.device_jid = spec.device_jid
        self._was_connected = False  # connected since the last QR: a drop is "disconnected"
        self._stopped = False
        self._qr_timer: asyncio.TimerHandle | None = None
        self._qr_expired = False
        self._log = logger.bind(session_id=spec.session_id, engine="neonize")
        self.supervisor = Supervisor(
            spec.session_id,
            engine.launcher,
            self,
            policy=engine.policy,
            starts=engine.starts,
        )

    # -- lifecycle (EngineSession) ------------------------------------------------------

    async def start(self) -> None:
        self._stopped = False
        self.engine.sessions[self.spec.session_id] = self
        await self._report(StatusChanged(SessionStatus.CONNECTING, "starting"))
        self.supervisor.start()

    async def stop(self) -> None:
        self._stopped = True
        self._cancel_qr_timer()
        await self.supervisor.stop()
        if self.engine.sessions.get(self.spec.session_id) is self:
            del self.engine.sessions[self.spec.session_id]

    async def logout(self) -> None:
        if self.status is SessionStatus.CONNECTED:
            try:
                await self.supervisor.request("logout", timeout=REQUEST_TIMEOUT_SECONDS)
            except (Unavailable, OperationFailed, TimeoutError) as exc:
                self._log.warning("neonize.logout_failed", error=str(exc))
        await self.stop()
        await self.engine.forget(dataclasses.replace(self.spec, device_jid=self.device_jid))
        self.device_jid = None
        self.status = SessionStatus.LOGGED_OUT
        await self.sink(StatusChanged(SessionStatus.LOGGED_OUT, "logged out by the API"))

    @performs(RequestPairCode)
    async def request_pair_code(self, action: RequestPairCode) -> str:
        if self.status is not SessionStatus.QR_READY:
            raise OperationFailed(
                f"Cannot ask for a pairing code: session {self.spec.session_id} is "
                f"{self.status}, not {SessionStatus.QR_READY}.",
                code="session_state",
            )
        args = {"phone": action.phone_number}
        code = str(await self._request("pair_code", args, connected=False))
        await self._report(PairCodeIssued(code))
        return code

    # -- actions: every one the worker performs (actions.py) crosses as it is -------------

    @performs(*WORKER_ACTIONS)
    async def in_worker(self, action: Action[Any]) -> Any:
        self._require_connected()
        timeout = SEND_TIMEOUT_SECONDS if isinstance(action, Send) else REQUEST_TIMEOUT_SECONDS
        if not isinstance(action, OutgoingMessage) or action.media is None:
            return await self._request("perform", {"action": action}, timeout)
        # 70 MB never crosses the socket: the worker reads our spool file, then deletes it.
        name = f"{secrets.token_hex(16)}.bin"
        path = self.engine.spool_dir / name
        await asyncio.to_thread(path.write_bytes, action.media.data)
        light = dataclasses.replace(action, media=dataclasses.replace(action.media, data=b""))
        try:
            return await self._request("perform", {"action": light, "spool": name}, timeout)
        finally:
            await asyncio.to_thread(_unlink, path)

    async def worker_status(self) -> dict[str, Any]:
        """What the worker itself says (its state and pid): a liveness probe."""
        return dict(await self._request("status", connected=False))

    def _require_connected(self) -> None:
        if self.status is not SessionStatus.CONNECTED:
            reason = f"{self.status}: {self.detail}" if self.detail else str(self.status)
            raise Unavailable(
                f"Session {self.spec.session_id} is not connected to WhatsApp ({reason}).",
                code="session_not_connected",
            )

    async def _request(
        self,
        op: str,
        args: dict[str, Any] | None = None,
        timeout: float = REQUEST_TIMEOUT_SECONDS,
        *,
        connected: bool = True,
    ) -> Any:
        if connected:
            self._require_connected()
        try:
            return await self.supervisor.request(op, args, timeout=timeout)
        except TimeoutError as exc:
            raise Unavailable(
                f"Session {self.spec.session_id}: WhatsApp did not answer within {timeout:.0f} s.",
                code="timeout",
            ) from exc

    # -- what the supervisor reports (supervisor.Listener) ------------------------------

    def start_args(self) -> dict[str, Any]:
        return self.engine.start_args(self.spec.session_id, self.device_jid)

    async def worker_started(self, worker: WorkerProcess, answer: dict[str, Any]) -> None:
        self._qr_expired = False
        if answer.get("resumed"):
            self.device_jid = str(answer["resumed"])

    async def worker_frame(self, frame: Frame) -> None:
        if isinstance(frame, LogFrame):
            level = _LOG_LEVELS.get(frame.level, 20)
            self._log.log(level, frame.event, worker=True, **frame.fields)
        elif isinstance(frame, EventFrame):
            await self._from_worker(frame.event)

    async def worker_exited(self, outcome: Exit, restart_in: float | None) -> None:
        self._cancel_qr_timer()
        if self._stopped or restart_in is None:
            return  # a stop, or a terminal end whose status the worker already reported
        if self._qr_expired:
            reason = "the QR code expired without a scan; starting a new login"
        elif outcome.crashed:
            reason = (
                outcome.cause
                if outcome.start_failed
                else f"the WhatsApp worker crashed ({outcome.cause})"
            )
        else:
            reason = outcome.ended.reason if outcome.ended is not None else "the worker stopped"
        when = f"; retrying in {_seconds(restart_in)}" if restart_in > 0 else ""
        status = SessionStatus.DISCONNECTED if self._was_connected else SessionStatus.CONNECTING
        await self._report(StatusChanged(status, reason + when))

    async def _from_worker(self, event: EngineEvent) -> None:
        if isinstance(event, QrCodeChanged):
            self._was_connected = False
            if self._qr_timer is None:
                loop = asyncio.get_running_loop()
                timeout = self.engine.settings.qr_timeout_seconds
                self._qr_timer = loop.call_later(timeout, self._qr_timeout)
        elif isinstance(event, StatusChanged):
            if event.device_jid:
                self.device_jid = event.device_jid
            if event.status is SessionStatus.CONNECTED:
                self._was_connected = True
                self._cancel_qr_timer()
            elif event.status is SessionStatus.LOGGED_OUT:
                self._was_connected = False
                self.device_jid = None
        await self._report(event)

    def _qr_timeout(self) -> None:
        self._qr_timer = None
        if self.status is SessionStatus.QR_READY and not self._stopped:
            self._log.info("neonize.qr_expired")
            self._qr_expired = True
            self.supervisor.restart_now()

    def _cancel_qr_timer(self) -> None:
        if self._qr_timer is not None:
            self._qr_timer.cancel()
            self._qr_timer = None

    async def _report(self, event: EngineEvent) -> None:
        if self._stopped:
            return
        if isinstance(event, StatusChanged):
            self.status, self.detail = event.status, event.detail
        elif isinstance(event, QrCodeChanged):
            self.status, self.detail = SessionStatus.QR_READY, None
        await self.sink(event)


def _seconds(value: float) -> str:
    return f"{value:.1f} s" if value < 10 else f"{value:.0f} s"


def _unlink(path: Path) -> None:
    path.unlink(missing_ok=True)
