"""`Client`: every operation of the Sendmako API, on httpx, blocking.

Written by `python -m tests.client.unasync` from `_async.py`: edit that file, not this
one.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import quote

import httpx
from httpx_sse import connect_sse

from sendmako.client import models as m
from sendmako.client.errors import raise_for
from sendmako.client.operations import operation

ModelT = TypeVar("ModelT", bound=m.Model)

DEFAULT_TIMEOUT = 30.0
FINISHED_BULK = frozenset({"done", "interrupted"})


def _segment(value: str | int) -> str:
    # A group JID's `@`, a number's `+`, anything else: one path segment, encoded.
    return quote(str(value), safe="")


def _body(**fields: Any) -> dict[str, Any]:
    """A JSON body without the fields left out (None), so the server's defaults apply."""
    return {name: value for name, value in fields.items() if value is not None}


class Client:
    """The Sendmako API for one API key.

    `base_url` is the server (`http://127.0.0.1:8000`), `api_key` a `wsa_...` key. Pass
    `http` to use an httpx client of your own (proxies, a transport for tests); it is then
    yours to close. Every method raises `sendmako.client.ApiError` (with the API's `code`
    and `message`) when the server answers with an error.

    Operations that act through a WhatsApp session take `session_id`; without it the
    server uses the key's oldest connected session.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        http: httpx.Client | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._owns_http = http is None
        self._http = http or httpx.Client(timeout=timeout)
        self._base_url = base_url.rstrip("/")
        self._headers = headers

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
    ) -> httpx.Response:
        response = self._http.request(
            method,
            self._base_url + path,
            params=_body(**params) if params else None,
            json=json,
            headers=self._headers,
        )
        raise_for(response)
        return response

    def _call(
        self,
        answer: type[ModelT],
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
    ) -> ModelT:
        response = self._send(method, path, params=params, json=json)
        return answer.model_validate(response.json())

    def _done(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
    ) -> None:
        self._send(method, path, params=params, json=json)

    # Sessions

    @operation("GET", "/api/whatsapp/sessions")
    def list_sessions(self) -> list[m.Session]:
        response = self._send("GET", "/api/whatsapp/sessions")
        return [m.Session.model_validate(item) for item in response.json()]

    @operation("POST", "/api/whatsapp/sessions")
    def create_session(
        self, session_name: str | None = None, *, engine: str | None = None
    ) -> m.CreatedSession:
        body = _body(session_name=session_name, engine=engine)
        return self._call(m.CreatedSession, "POST", "/api/whatsapp/sessions", json=body)

    @operation("GET", "/api/whatsapp/sessions/{session_id}")
    def get_session(
        self,
        session_id: str,
        *,
        wait_for: str | None = None,
        timeout: float | None = None,
    ) -> m.Session:
        """One session. With `wait_for` (a status), the server holds the answer until the
        session reaches it or `timeout` seconds pass (a long-poll)."""
        params = {"wait_for": wait_for, "timeout": timeout}
        path = f"/api/whatsapp/sessions/{_segment(session_id)}"
        return self._call(m.Session, "GET", path, params=params)

    @operation("PATCH", "/api/whatsapp/sessions/{session_id}")
    def update_session(self, session_id: str, **changes: Any) -> m.SessionSettings:
        """Rename a session or change its settings (`session_name`, `reject_calls`,
        `reject_calls_message`, `send_policy`, ...): only the fields given change."""
        path = f"/api/whatsapp/sessions/{_segment(session_id)}"
        return self._call(m.SessionSettings, "PATCH", path, json=changes)

    @operation("DELETE", "/api/whatsapp/sessions/{session_id}")
    def delete_session(self, session_id: str) -> None:
        self._done("DELETE", f"/api/whatsapp/sessions/{_segment(session_id)}")

    @operation("POST", "/api/whatsapp/sessions/{session_id}/pair-code")
    def pair_code(self, session_id: str, phone_number: str) -> m.PairCode:
        path = f"/api/whatsapp/sessions/{_segment(session_id)}/pair-code"
        return self._call(m.PairCode, "POST", path, json={"phone_number": phone_number})

    @operation("POST", "/api/whatsapp/sessions/{session_id}/restart")
    def restart_session(self, session_id: str) -> m.SessionState:
        path = f"/api/whatsapp/sessions/{_segment(session_id)}/restart"
        return self._call(m.SessionState, "POST", path)

    # Messages

    @operation("POST", "/api/send-message")
    def send_message(
        self,
        to: str,
        type: m.MessageType = "text",  # noqa: A002 - the API's own name for it
        *,
        session_id: str | None = None,
        **fields: Any,
    ) -> m.SentMessage:
        """Send one message. `fields` are the type's own (API.md): `text`; `imageUrl` or
        `imageBase64` and `caption`; `latitude`, `longitude`; `contact`; `poll`; ...
        `sendmako.client.media_fields` reads a file from disk into them."""
        body = _body(to=to, type=type, session_id=session_id, **fields)
        return self._call(m.SentMessage, "POST", "/api/send-message", json=body)

    def send_text(
        self, to: str, text: str, *, session_id: str | None = None, **fields: Any
    ) -> m.SentMessage:
        return self.send_message(to, "text", session_id=session_id, text=text, **fields)

    @operation("POST", "/api/send-bulk")
    def send_bulk(
        self,
        recipients: list[str],
        type: m.MessageType = "text",  # noqa: A002 - the API's own name for it
        *,
        session_id: str | None = None,
        **fields: Any,
    ) -> m.BulkOutcome:
        """Send one message to 1-100 recipients and wait for the end (500 ms or more apart)."""
        body = _body(recipients=recipients, type=type, session_id=session_id, **fields)
        return self._call(m.BulkOutcome, "POST", "/api/send-bulk", json=body)

    def start_bulk(
        self,
        recipients: list[str],
        type: m.MessageType = "text",  # noqa: A002 - the API's own name for it
        *,
        session_id: str | None = None,
        **fields: Any,
    ) -> m.BulkAccepted:
        """The same, in the background: follow it with `bulk_job(job_id)`."""
        body = _body(recipients=recipients, type=type, session_id=session_id, **fields)
        body["async"] = True
        return self._call(m.BulkAccepted, "POST", "/api/send-bulk", json=body)

    @operation("GET", "/api/send-bulk/{job_id}")
    def bulk_job(self, job_id: str) -> m.BulkJob:
        return self._call(m.BulkJob, "GET", f"/api/send-bulk/{_segment(job_id)}")

    def follow_bulk(self, job_id: str, *, interval: float = 0.5) -> Iterator[m.BulkJob]:
        """The job's state every `interval` seconds, until every recipient has an outcome
        (`done`) or it stopped for good (`interrupted`): the last state yielded is that one."""
        while True:
            job = self.bulk_job(job_id)
            yield job
            if job.status in FINISHED_BULK:
                return
            time.sleep(interval)

    @operation("PATCH", "/api/messages/{message_id}")
    def edit_message(
        self, message_id: str, text: str, *, session_id: str | None = None
    ) -> m.MessageAction:
        path = f"/api/messages/{_segment(message_id)}"
        body = _body(text=text, session_id=session_id)
        return self._call(m.MessageAction, "PATCH", path, json=body)

    @operation("DELETE", "/api/messages/{message_id}")
    def delete_message(self, message_id: str, *, session_id: str | None = None) -> m.MessageAction:
        path = f"/api/messages/{_segment(message_id)}"
        params = {"session_id": session_id}
        return self._call(m.MessageAction, "DELETE", path, params=params)

    @operation("POST", "/api/messages/read")
    def mark_read(
        self, chat: str, message_ids: list[str], *, session_id: str | None = None
    ) -> None:
        body = _body(chat=chat, message_ids=message_ids, session_id=session_id)
        self._done("POST", "/api/messages/read", json=body)

    @operation("POST", "/api/presence")
    def set_presence(
        self, state: str, *, to: str | None = None, session_id: str | None = None
    ) -> None:
        body = _body(state=state, to=to, session_id=session_id)
        self._done("POST", "/api/presence", json=body)

    @operation("POST", "/api/presence/subscribe")
    def subscribe_presence(self, to: str, *, session_id: str | None = None) -> None:
        body = _body(to=to, session_id=session_id)
        self._done("POST", "/api/presence/subscribe", json=body)

    # Profile and media

    @operation("GET", "/api/profile")
    def get_profile(self, *, session_id: str | None = None) -> m.Profile:
        return self._call(m.Profile, "GET", "/api/profile", params={"session_id": session_id})

    @operation("PUT", "/api/profile")
    def update_profile(
        self,
        *,
        name: str | None = None,
        about: str | None = None,
        session_id: str | None = None,
    ) -> None:
        body = _body(name=name, about=about, session_id=session_id)
        self._done("PUT", "/api/profile", json=body)

    @operation("PUT", "/api/profile/picture")
    def set_profile_picture(
        self,
        *,
        image_url: str | None = None,
        image_base64: str | None = None,
        session_id: str | None = None,
    ) -> None:
        body = _body(imageUrl=image_url, imageBase64=image_base64, session_id=session_id)
        self._done("PUT", "/api/profile/picture", json=body)

    @operation("POST", "/api/decrypt-media")
    def decrypt_media(self, media: dict[str, Any]) -> bytes:
        """The plaintext of a received media file: pass a `message.received` event's
        `data.media` as it is."""
        response = self._send("POST", "/api/decrypt-media", json=media)
        return response.content

    # Contacts

    @operation("GET", "/api/whatsapp/contacts")
    def list_contacts(
        self, *, session_id: str | None = None, refresh: bool | None = None
    ) -> m.Contacts:
        params = {"session_id": session_id, "refresh": refresh}
        return self._call(m.Contacts, "GET", "/api/whatsapp/contacts", params=params)

    @operation("POST", "/api/contacts/check")
    def check_numbers(self, numbers: list[str], *, session_id: str | None = None) -> m.NumberChecks:
        body = _body(numbers=numbers, session_id=session_id)
        return self._call(m.NumberChecks, "POST", "/api/contacts/check", json=body)

    @operation("GET", "/api/contacts/{contact}/picture")
    def contact_picture(self, contact: str, *, session_id: str | None = None) -> m.Picture:
        path = f"/api/contacts/{_segment(contact)}/picture"
        return self._call(m.Picture, "GET", path, params={"session_id": session_id})

    # Groups

    @operation("GET", "/api/groups")
    def list_groups(
        self, *, session_id: str | None = None, refresh: bool | None = None
    ) -> m.Groups:
        params = {"session_id": session_id, "refresh": refresh}
        return self._call(m.Groups, "GET", "/api/groups", params=params)

    @operation("POST", "/api/groups")
    def create_group(
        self, name: str, participants: list[str], *, session_id: str | None = None
    ) -> m.GroupAnswer:
        body = _body(name=name, participants=participants, session_id=session_id)
        return self._call(m.GroupAnswer, "POST", "/api/groups", json=body)

    @operation("GET", "/api/groups/{jid}/metadata")
    def group_metadata(
        self, jid: str, *, session_id: str | None = None, refresh: bool | None = None
    ) -> m.GroupAnswer:
        path = f"/api/groups/{_segment(jid)}/metadata"
        params = {"session_id": session_id, "refresh": refresh}
        return self._call(m.GroupAnswer, "GET", path, params=params)

    @operation("GET", "/api/groups/{jid}/participants")
    def group_participants(
        self, jid: str, *, session_id: str | None = None, refresh: bool | None = None
    ) -> m.Participants:
        path = f"/api/groups/{_segment(jid)}/participants"
        params = {"session_id": session_id, "refresh": refresh}
        return self._call(m.Participants, "GET", path, params=params)

    @operation("POST", "/api/groups/{jid}/participants/add")
    def add_participants(
        self, jid: str, participants: list[str], *, session_id: str | None = None
    ) -> m.ParticipantResults:
        path = f"/api/groups/{_segment(jid)}/participants/add"
        body = _body(participants=participants, session_id=session_id)
        return self._call(m.ParticipantResults, "POST", path, json=body)

    @operation("POST", "/api/groups/{jid}/participants/remove")
    def remove_participants(
        self, jid: str, participants: list[str], *, session_id: str | None = None
    ) -> m.ParticipantResults:
        path = f"/api/groups/{_segment(jid)}/participants/remove"
        body = _body(participants=participants, session_id=session_id)
        return self._call(m.ParticipantResults, "POST", path, json=body)

    @operation("PUT", "/api/groups/{jid}/participants/update")
    def update_participants(
        self,
        jid: str,
        participants: list[str],
        action: str,
        *,
        session_id: str | None = None,
    ) -> m.ParticipantResults:
        """`action`: `promote` or `demote`."""
        path = f"/api/groups/{_segment(jid)}/participants/update"
        body = _body(participants=participants, action=action, session_id=session_id)
        return self._call(m.ParticipantResults, "PUT", path, json=body)

    @operation("PUT", "/api/groups/{jid}/settings")
    def update_group(
        self,
        jid: str,
        *,
        subject: str | None = None,
        description: str | None = None,
        announce: bool | None = None,
        restrict: bool | None = None,
        session_id: str | None = None,
    ) -> m.GroupAnswer:
        path = f"/api/groups/{_segment(jid)}/settings"
        body = _body(
            subject=subject,
            description=description,
            announce=announce,
            restrict=restrict,
            session_id=session_id,
        )
        return self._call(m.GroupAnswer, "PUT", path, json=body)

    @operation("GET", "/api/groups/{jid}/invite-link")
    def invite_link(self, jid: str, *, session_id: str | None = None) -> m.InviteLink:
        path = f"/api/groups/{_segment(jid)}/invite-link"
        return self._call(m.InviteLink, "GET", path, params={"session_id": session_id})

    @operation("POST", "/api/groups/{jid}/invite-link/reset")
    def reset_invite_link(self, jid: str, *, session_id: str | None = None) -> m.InviteLink:
        path = f"/api/groups/{_segment(jid)}/invite-link/reset"
        return self._call(m.InviteLink, "POST", path, json=_body(session_id=session_id))

    @operation("GET", "/api/groups/invite/{code}")
    def invite_info(self, code: str, *, session_id: str | None = None) -> m.GroupAnswer:
        path = f"/api/groups/invite/{_segment(code)}"
        return self._call(m.GroupAnswer, "GET", path, params={"session_id": session_id})

    @operation("POST", "/api/groups/invite/accept")
    def accept_invite(self, code: str, *, session_id: str | None = None) -> m.JoinedGroup:
        body = _body(inviteCode=code, session_id=session_id)
        return self._call(m.JoinedGroup, "POST", "/api/groups/invite/accept", json=body)

    @operation("GET", "/api/groups/{jid}/picture")
    def group_picture(self, jid: str, *, session_id: str | None = None) -> m.Picture:
        path = f"/api/groups/{_segment(jid)}/picture"
        return self._call(m.Picture, "GET", path, params={"session_id": session_id})

    @operation("POST", "/api/groups/{jid}/leave")
    def leave_group(self, jid: str, *, session_id: str | None = None) -> None:
        path = f"/api/groups/{_segment(jid)}/leave"
        self._done("POST", path, json=_body(session_id=session_id))

    # Chats and history

    @operation("GET", "/api/chats")
    def list_chats(
        self,
        *,
        session_id: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> m.Chats:
        """The chats, latest activity first; pass `next_cursor` back as `cursor` for more."""
        params = {"session_id": session_id, "limit": limit, "cursor": cursor}
        return self._call(m.Chats, "GET", "/api/chats", params=params)

    @operation("GET", "/api/chats/{chat}/messages")
    def chat_messages(
        self,
        chat: str,
        *,
        session_id: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> m.ChatMessages:
        """A chat's messages, newest first; pass `next_cursor` back as `cursor` for more."""
        path = f"/api/chats/{_segment(chat)}/messages"
        params = {"session_id": session_id, "limit": limit, "cursor": cursor}
        return self._call(m.ChatMessages, "GET", path, params=params)

    # Events and metrics

    @operation("GET", "/metrics")
    def metrics(self) -> str:
        """This node's Prometheus metrics, as text (an admin's key)."""
        response = self._send("GET", "/metrics")
        return response.text

    @operation("GET", "/api/events")
    def events(
        self,
        *,
        events: list[str] | None = None,
        session_id: str | None = None,
        last_event_id: str | None = None,
        reconnect: bool = True,
        retry_delay: float = 1.0,
    ) -> Iterator[m.Event]:
        """Follow `GET /api/events`: the webhook events of this key's user, as they happen.

        When the connection drops it reconnects with `Last-Event-ID`, so nothing within
        the server's retention is missed or repeated; `reconnect=False` ends instead.
        An error answer (a bad key, say) raises at once rather than retrying."""
        params = _body(event=",".join(events) if events else None, session_id=session_id)
        url = self._base_url + "/api/events"
        while True:
            headers = dict(self._headers)
            if last_event_id is not None:
                headers["Last-Event-ID"] = last_event_id
            try:
                with connect_sse(
                    self._http,
                    "GET",
                    url,
                    params=params,
                    headers=headers,
                    timeout=httpx.Timeout(DEFAULT_TIMEOUT, read=None),
                ) as source:
                    if not source.response.is_success:
                        source.response.read()
                        raise_for(source.response)
                    for sse in source.iter_sse():
                        if sse.retry is not None:
                            retry_delay = sse.retry / 1000
                        if not sse.data:
                            continue  # a heartbeat
                        event = m.Event.model_validate_json(sse.data)
                        if sse.id:
                            last_event_id = sse.id
                            event.id = event.id or sse.id
                        yield event
            except httpx.TransportError:
                if not reconnect:
                    raise
            if not reconnect:
                return
            time.sleep(retry_delay)

    # Webhooks

    @operation("GET", "/api/webhooks")
    def list_webhooks(self) -> list[m.Webhook]:
        response = self._send("GET", "/api/webhooks")
        return [m.Webhook.model_validate(item) for item in response.json()["webhooks"]]

    @operation("POST", "/api/webhooks")
    def create_webhook(
        self,
        url: str,
        *,
        events: list[str] | None = None,
        session_ids: list[str] | None = None,
        enabled: bool | None = None,
        description: str | None = None,
    ) -> m.WebhookAnswer:
        """A new endpoint; the answer's `secret` (shown only now) signs its deliveries."""
        body = _body(
            url=url,
            events=events,
            session_ids=session_ids,
            enabled=enabled,
            description=description,
        )
        return self._call(m.WebhookAnswer, "POST", "/api/webhooks", json=body)

    @operation("GET", "/api/webhooks/{webhook_id}")
    def get_webhook(self, webhook_id: int) -> m.WebhookAnswer:
        path = f"/api/webhooks/{_segment(webhook_id)}"
        return self._call(m.WebhookAnswer, "GET", path)

    @operation("PATCH", "/api/webhooks/{webhook_id}")
    def update_webhook(self, webhook_id: int, **changes: Any) -> m.WebhookAnswer:
        """Change `url`, `events`, `session_ids`, `enabled`, `description`, or
        `rotate_secret=True`: only the fields given change."""
        path = f"/api/webhooks/{_segment(webhook_id)}"
        return self._call(m.WebhookAnswer, "PATCH", path, json=changes)

    @operation("DELETE", "/api/webhooks/{webhook_id}")
    def delete_webhook(self, webhook_id: int) -> None:
        self._done("DELETE", f"/api/webhooks/{_segment(webhook_id)}")

    @operation("POST", "/api/webhooks/{webhook_id}/test")
    def test_webhook(self, webhook_id: int) -> m.WebhookTest:
        path = f"/api/webhooks/{_segment(webhook_id)}/test"
        return self._call(m.WebhookTest, "POST", path)

    @operation("GET", "/api/webhooks/{webhook_id}/deliveries")
    def webhook_deliveries(
        self, webhook_id: int, *, page: int | None = None, per_page: int | None = None
    ) -> m.DeliveryPage:
        path = f"/api/webhooks/{_segment(webhook_id)}/deliveries"
        params = {"page": page, "per_page": per_page}
        return self._call(m.DeliveryPage, "GET", path, params=params)

    @operation("POST", "/api/webhooks/deliveries/{delivery_id}/redeliver")
    def redeliver(self, delivery_id: int) -> m.Delivery:
        path = f"/api/webhooks/deliveries/{_segment(delivery_id)}/redeliver"
        response = self._send("POST", path)
        return m.Delivery.model_validate(response.json()["delivery"])

    # API keys

    @operation("GET", "/api/keys")
    def list_keys(self) -> list[m.ApiKey]:
        response = self._send("GET", "/api/keys")
        return [m.ApiKey.model_validate(item) for item in response.json()["keys"]]

    @operation("POST", "/api/keys")
    def create_key(self, name: str | None = None) -> m.CreatedKey:
        """A new key for the same user; its secret (`key`) is shown only now."""
        return self._call(m.CreatedKey, "POST", "/api/keys", json=_body(name=name))

    @operation("DELETE", "/api/keys/{key_id}")
    def revoke_key(self, key_id: int) -> m.ApiKey:
        response = self._send("DELETE", f"/api/keys/{_segment(key_id)}")
        return m.ApiKey.model_validate(response.json()["api_key"])

    # The sandbox: a simulated WhatsApp network, driven from outside

    @operation("POST", "/api/sandbox/sessions/{session_id}/scan")
    def sandbox_scan(
        self,
        session_id: str,
        *,
        phone_number: str | None = None,
        push_name: str | None = None,
        qr: str | None = None,
        pair_code: str | None = None,
    ) -> m.SessionState:
        """Link a sandbox session, as a phone scanning its QR would."""
        path = f"/api/sandbox/sessions/{_segment(session_id)}/scan"
        body = _body(phone_number=phone_number, push_name=push_name, qr=qr, pair_code=pair_code)
        return self._call(m.SessionState, "POST", path, json=body)

    @operation("POST", "/api/sandbox/sessions/{session_id}/restrict")
    def sandbox_restrict(
        self, session_id: str, kind: str, seconds: float, *, code: int = 101
    ) -> m.SessionState:
        """WhatsApp restricts the sandbox number for `seconds`: `temporary_ban` (with its
        `code`, 101-106) or `new_contacts` (sends to new numbers answer 463)."""
        path = f"/api/sandbox/sessions/{_segment(session_id)}/restrict"
        body = _body(kind=kind, seconds=seconds, code=code)
        return self._call(m.SessionState, "POST", path, json=body)

    @operation("POST", "/api/sandbox/sessions/{session_id}/deafen")
    def sandbox_deafen(self, session_id: str, *, for_good: bool = False) -> m.SessionState:
        """The connection stays up but nothing reaches the session (the watchdog's case)."""
        path = f"/api/sandbox/sessions/{_segment(session_id)}/deafen"
        return self._call(m.SessionState, "POST", path, json={"for_good": for_good})

    @operation("POST", "/api/sandbox/sessions/{session_id}/inbound")
    def sandbox_inbound(
        self,
        session_id: str,
        sender: str,
        type: m.MessageType = "text",  # noqa: A002 - the API's own name for it
        **fields: Any,
    ) -> m.SandboxInbound:
        """A message from `sender` arrives on the sandbox session."""
        path = f"/api/sandbox/sessions/{_segment(session_id)}/inbound"
        body = _body(type=type, **fields)
        body["from"] = sender
        return self._call(m.SandboxInbound, "POST", path, json=body)

    @operation("POST", "/api/sandbox/sessions/{session_id}/inbound/batch")
    def sandbox_inbound_batch(
        self, session_id: str, messages: list[dict[str, Any]]
    ) -> m.SandboxInboundBatch:
        """Several arriving messages at once: each as `sandbox_inbound`'s body
        (`{"from": ..., "type": ..., ...}`)."""
        path = f"/api/sandbox/sessions/{_segment(session_id)}/inbound/batch"
        body = {"messages": messages}
        return self._call(m.SandboxInboundBatch, "POST", path, json=body)

    @operation("GET", "/api/sandbox/sessions/{session_id}/sent")
    def sandbox_sent(self, session_id: str) -> list[m.SandboxSent]:
        response = self._send("GET", f"/api/sandbox/sessions/{_segment(session_id)}/sent")
        return [m.SandboxSent.model_validate(item) for item in response.json()["messages"]]

    @operation("POST", "/api/sandbox/sessions/{session_id}/disconnect")
    def sandbox_disconnect(
        self, session_id: str, reason: str, *, reconnect_after: float | None = None
    ) -> m.SessionState:
        """`reason`: `logged_out` or `connection_lost`."""
        path = f"/api/sandbox/sessions/{_segment(session_id)}/disconnect"
        body = _body(reason=reason, reconnect_after=reconnect_after)
        return self._call(m.SessionState, "POST", path, json=body)

    @operation("PUT", "/api/sandbox/sessions/{session_id}/contacts")
    def sandbox_set_contacts(
        self, session_id: str, contacts: list[dict[str, Any]]
    ) -> m.SandboxContacts:
        """Replace the sandbox phone's address book (`[{"phone", "name"}]`)."""
        path = f"/api/sandbox/sessions/{_segment(session_id)}/contacts"
        body = {"contacts": contacts}
        return self._call(m.SandboxContacts, "PUT", path, json=body)

    @operation("POST", "/api/sandbox/sessions/{session_id}/contacts")
    def sandbox_add_contacts(
        self, session_id: str, contacts: list[dict[str, Any]]
    ) -> m.SandboxContacts:
        path = f"/api/sandbox/sessions/{_segment(session_id)}/contacts"
        body = {"contacts": contacts}
        return self._call(m.SandboxContacts, "POST", path, json=body)

    @operation("POST", "/api/sandbox/sessions/{session_id}/happen")
    def sandbox_happen(self, session_id: str, event: str, sender: str, **fields: Any) -> None:
        """Make something happen from outside: a contact reacts, edits, calls, types; a
        group changes (`event`: `reaction`, `edit`, `revoke`, `vote`, `call`, ...)."""
        path = f"/api/sandbox/sessions/{_segment(session_id)}/happen"
        body = _body(event=event, **fields)
        body["from"] = sender
        self._done("POST", path, json=body)

    @operation("GET", "/media/sandbox/{token}")
    def sandbox_media(self, token: str) -> bytes:
        response = self._send("GET", f"/media/sandbox/{_segment(token)}")
        return response.content

    # Administration and health

    @operation("GET", "/api/admin/nodes")
    def list_nodes(self) -> list[m.Node]:
        response = self._send("GET", "/api/admin/nodes")
        return [m.Node.model_validate(item) for item in response.json()["nodes"]]

    @operation("POST", "/api/admin/nodes/{node_id}/drain")
    def drain_node(self, node_id: str) -> m.Node:
        response = self._send("POST", f"/api/admin/nodes/{_segment(node_id)}/drain")
        return m.Node.model_validate(response.json()["node"])

    @operation("POST", "/api/admin/nodes/{node_id}/resume")
    def resume_node(self, node_id: str) -> m.Node:
        response = self._send("POST", f"/api/admin/nodes/{_segment(node_id)}/resume")
        return m.Node.model_validate(response.json()["node"])

    @operation("GET", "/health")
    def health(self) -> m.Health:
        """The server's health (no key needed). A degraded server answers 503: an error."""
        return self._call(m.Health, "GET", "/health")

    @operation("GET", "/health/live")
    def live(self) -> bool:
        """Whether the process answers at all."""
        self._send("GET", "/health/live")
        return True
