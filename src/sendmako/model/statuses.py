"""Every status the server tracks, each value explained in one line (STYLE.md 11)."""

from __future__ import annotations

from enum import StrEnum


class SessionStatus(StrEnum):
    CONNECTING = "connecting"  # starting, or reconnecting after a drop
    QR_READY = "qr_ready"  # a QR code is waiting to be scanned
    CONNECTED = "connected"  # linked and online: messages flow
    DISCONNECTED = "disconnected"  # connection lost; the engine keeps retrying with backoff
    LOGGED_OUT = "logged_out"  # unlinked from the phone; a restart produces a new QR


class MessageStatus(StrEnum):
    """A stored message's status. An outgoing one only moves forward: sent, delivered,
    read (a late "delivered" never undoes "read")."""

    SENT = "sent"  # WhatsApp took it
    DELIVERED = "delivered"  # it reached the recipient's phone
    READ = "read"  # the recipient opened it
    RECEIVED = "received"  # an incoming message

    @property
    def rank(self) -> int:
        """How far an outgoing message has come (0 for incoming ones)."""
        return _RANK.get(self, 0)


_RANK = {MessageStatus.SENT: 1, MessageStatus.DELIVERED: 2, MessageStatus.READ: 3}
# What a receipt can move an outgoing message to.
RECEIPT_STATUSES = (MessageStatus.DELIVERED, MessageStatus.READ)


class BulkJobStatus(StrEnum):
    QUEUED = "queued"  # accepted, not started
    RUNNING = "running"  # sending, one recipient after another
    PAUSED = "paused"  # its account is disabled: carries on when the account is enabled again
    DONE = "done"  # every recipient has an outcome
    INTERRUPTED = "interrupted"  # stopped before the end, for good (its caller waited for it)


class RecipientStatus(StrEnum):
    """One recipient of a bulk job."""

    PENDING = "pending"  # not sent yet
    SENDING = "sending"  # with the engine now; a crash here makes it `unknown`
    SENT = "sent"  # WhatsApp took it
    FAILED = "failed"  # refused, with the reason; never retried blindly
    UNKNOWN = "unknown"  # cut short mid-send: it may or may not have gone, so never resent


class DeliveryStatus(StrEnum):
    """One webhook event on its way to one endpoint."""

    PENDING = "pending"  # waiting for its first or next attempt
    SUCCEEDED = "succeeded"  # the endpoint answered 2xx
    FAILED = "failed"  # retried for the whole retry window without success
