"""Table definitions. Migrations in `migrations/versions` create them; queries live beside
this module, one module per table family, and return the dataclasses of `records.py`."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite would otherwise return naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use datetime.now(UTC)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime}


class Plan(Base):
    __tablename__ = "plans"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    # None means unlimited.
    max_sessions: Mapped[int | None] = mapped_column(Integer)
    daily_messages: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    plan: Mapped[str] = mapped_column(ForeignKey("plans.name", onupdate="CASCADE"))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DashboardLogin(Base):
    """A dashboard session: its cookie carries the token whose SHA-256 is `id`. Logging
    out, a new password and disabling the account delete the rows, which ends the session
    whatever copies of its cookie exist."""

    __tablename__ = "dashboard_logins"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The first characters of the key, shown in listings so people can tell keys apart.
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    # SHA-256 of the whole key: keys are 190+ random bits, so a fast hash is enough.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class WaSession(Base):
    __tablename__ = "wa_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    session_id: Mapped[str] = mapped_column(String(64), unique=True)
    session_name: Mapped[str] = mapped_column(String(100))
    engine: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    status_detail: Mapped[str | None] = mapped_column(Text)
    phone_number: Mapped[str | None] = mapped_column(String(32))
    device_jid: Mapped[str | None] = mapped_column(String(100))
    # Minimum time between two sends of this session, so a number is never flooded.
    pacing_ms: Mapped[int] = mapped_column(Integer, default=1000)
    # Calls are refused as they ring, followed by this message when there is one.
    reject_calls: Mapped[bool] = mapped_column(Boolean, default=False)
    reject_calls_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The node that runs this session (DESIGN.md "Growing past one machine"), for as long
    # as that node's lease lives, and the fencing token of its hold: it grows each time the
    # session changes hands, and a write carrying an older one is refused.
    owner: Mapped[str | None] = mapped_column(String(100))
    lease_token: Mapped[int] = mapped_column(Integer, default=0)
    # Every change of the row counts: a node's copy of it never goes back in time.
    version: Mapped[int] = mapped_column(Integer, default=0)
    # The QR shown while qr_ready (what it encodes), for any node to show it.
    qr_code: Mapped[str | None] = mapped_column(Text)
    qr_expires_at: Mapped[datetime | None]
    # The session's send policy (model/send_policy.py; None: the server's default), when
    # its number was linked (its warm-up counts from then), and WhatsApp's restriction on
    # it now (model/restrictions.py; None: none).
    send_policy: Mapped[dict[str, object] | None] = mapped_column(JSON)
    linked_at: Mapped[datetime | None]
    restriction: Mapped[dict[str, object] | None] = mapped_column(JSON)

    __table_args__ = (
        Index("ix_wa_sessions_user_created", "user_id", "id"),
        Index("ix_wa_sessions_owner", "owner"),
    )


class Message(Base):
    """A message sent or received by a session. Messages outlive their session, so the
    daily quota cannot be reset by deleting a session."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    session_id: Mapped[str] = mapped_column(String(64))
    direction: Mapped[str] = mapped_column(String(3))  # "out" or "in"
    wa_message_id: Mapped[str] = mapped_column(String(128))
    chat: Mapped[str] = mapped_column(String(128))  # the chat's JID
    peer: Mapped[str] = mapped_column(String(64))  # recipient (out) or sender (in) phone
    type: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))  # sent, delivered, read, received
    bulk_job_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    body: Mapped[str | None] = mapped_column(Text)  # the text, or a media caption
    sender_name: Mapped[str | None] = mapped_column(String(100))  # the author's push name
    sender_lid: Mapped[str | None] = mapped_column(String(64))  # the author's hidden id
    # What WhatsApp says of the file (mimetype, size, keys of an incoming one).
    media: Mapped[dict[str, object] | None] = mapped_column(JSON)
    quoted_id: Mapped[str | None] = mapped_column(String(128))  # the message it replies to
    poll: Mapped[dict[str, object] | None] = mapped_column(JSON)  # name, options, selectable
    edited_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]  # deleted for everyone
    revoked_by: Mapped[str | None] = mapped_column(String(64))  # the admin, when not its author

    __table_args__ = (
        Index("ix_messages_user_created", "user_id", "direction", "created_at"),
        Index("ix_messages_session_wa_id", "session_id", "wa_message_id"),
        Index("ix_messages_user_wa_id", "user_id", "wa_message_id"),
        # A chat's page is a range on this index, newest first, whatever the chat's size.
        Index("ix_messages_chat_time", "session_id", "chat", "created_at", "id"),
        # Retention deletes the oldest rows first, found without a scan.
        Index("ix_messages_created", "created_at"),
        Index("ix_messages_session_chat", "session_id", "chat"),  # a new contact?
    )


class Chat(Base):
    """A conversation of a session: who it is with, when it last moved, how much of it is
    unread. Kept beside the messages so listing chats never scans them."""

    __tablename__ = "chats"

    session_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    chat: Mapped[str] = mapped_column(String(128), primary_key=True)  # the chat's JID
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str | None] = mapped_column(String(200))  # group subject or person's name
    is_group: Mapped[bool] = mapped_column(Boolean, default=False)
    unread: Mapped[int] = mapped_column(Integer, default=0)  # incoming messages not read yet
    last_at: Mapped[datetime] = mapped_column(default=utcnow)  # its latest message
    last_message_id: Mapped[str | None] = mapped_column(String(128))  # WhatsApp id of it

    __table_args__ = (Index("ix_chats_session_last", "session_id", "last_at", "chat"),)


class HistorySync(Base):
    """How far the history a phone sends at first link has come, per session."""

    __tablename__ = "history_syncs"

    session_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    progress: Mapped[int | None] = mapped_column(Integer)  # percent, as WhatsApp reports it
    chats: Mapped[int] = mapped_column(Integer, default=0)  # conversations received so far
    messages: Mapped[int] = mapped_column(Integer, default=0)  # messages stored so far
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class MessageEdit(Base):
    """An earlier text of an edited message."""

    __tablename__ = "message_edits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_pk: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    body: Mapped[str | None] = mapped_column(Text)
    replaced_at: Mapped[datetime] = mapped_column(default=utcnow)


class MessageReaction(Base):
    """Someone's reaction to a message (one each; a new one replaces it)."""

    __tablename__ = "message_reactions"

    message_pk: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
    reactor: Mapped[str] = mapped_column(String(64), primary_key=True)  # phone
    emoji: Mapped[str] = mapped_column(String(32))
    reacted_at: Mapped[datetime] = mapped_column(default=utcnow)


class PollVote(Base):
    """Someone's choice in a poll (one each; a new vote replaces it)."""

    __tablename__ = "poll_votes"

    message_pk: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
    voter: Mapped[str] = mapped_column(String(64), primary_key=True)  # phone
    options: Mapped[list[str]] = mapped_column(JSON)  # the names chosen
    voted_at: Mapped[datetime] = mapped_column(default=utcnow)


class NumberCheck(Base):
    """Whether a number has WhatsApp, as a user last asked: kept a day, so a CRM importing
    a list does not ask WhatsApp again and again."""

    __tablename__ = "number_checks"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    phone: Mapped[str] = mapped_column(String(32), primary_key=True)
    on_whatsapp: Mapped[bool] = mapped_column(Boolean)
    jid: Mapped[str | None] = mapped_column(String(128))
    checked_at: Mapped[datetime] = mapped_column(default=utcnow)


class BulkJob(Base):
    __tablename__ = "bulk_jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20))  # queued, running, done, interrupted
    is_async: Mapped[bool] = mapped_column(Boolean)
    # The message to send (everything but the recipients); its media bytes are in
    # `bulk_media` (a job from before names a file under its node's data directory).
    request: Mapped[dict[str, object]] = mapped_column(JSON)
    total: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    # The node running it (its name, and the token of its node lease then): another node
    # takes the job only once that lease is gone (several nodes).
    owner: Mapped[str | None] = mapped_column(String(100))
    owner_token: Mapped[int | None] = mapped_column(Integer)


class BulkMedia(Base):
    """A bulk job's media bytes, readable by whichever node runs the job."""

    __tablename__ = "bulk_media"

    job_id: Mapped[str] = mapped_column(
        ForeignKey("bulk_jobs.id", ondelete="CASCADE"), primary_key=True
    )
    data: Mapped[bytes] = mapped_column(LargeBinary)


class BulkRecipient(Base):
    __tablename__ = "bulk_recipients"

    job_id: Mapped[str] = mapped_column(
        ForeignKey("bulk_jobs.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    recipient: Mapped[str] = mapped_column(String(128))  # as the caller wrote it
    # pending -> sending -> sent | failed; a crash between sending and its outcome leaves
    # "sending", which a restart turns into "unknown" (never sent twice).
    status: Mapped[str] = mapped_column(String(20))
    message_id: Mapped[str | None] = mapped_column(String(128))
    error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]


class WebhookEndpoint(Base):
    __tablename__ = "webhook_endpoints"

    # Random (storage/webhooks.py), never sequential: ids must not tell one account about
    # another's endpoints. 64-bit on PostgreSQL (SQLite's integers are).
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    # Kept as is: every delivery is signed with it (and the dashboard can reveal it).
    secret: Mapped[str] = mapped_column(String(100))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    events: Mapped[list[str] | None] = mapped_column(JSON)  # None: every event
    session_ids: Mapped[list[str] | None] = mapped_column(JSON)  # None: every session
    description: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookEvent(Base):
    """An event as it will be sent: `body` is the exact JSON text that gets signed."""

    __tablename__ = "webhook_events"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StreamEvent(Base):
    """An event as GET /api/events streams it: every event of every user, whether or not a
    webhook wants it, numbered per user in commit order (`seq`, the stream's Last-Event-ID).
    Kept SENDMAKO_EVENTS__RETENTION_HOURS."""

    __tablename__ = "stream_events"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    session_id: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)  # the webhook envelope, exactly
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class EventCounter(Base):
    """Each user's last stream sequence number. Its row is locked from the moment a
    transaction numbers events until it commits, so numbers are taken in commit order and
    a reader never skips one that commits later."""

    __tablename__ = "event_counters"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    last_seq: Mapped[int] = mapped_column(Integer, default=0)


class WebhookDelivery(Base):
    """One event to one endpoint. Deliveries of one chat to one endpoint go out in `id`
    order: a delivery waits while an earlier one of its chain is still pending."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("webhook_events.id", ondelete="CASCADE"))
    endpoint_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"),
    )
    chain: Mapped[str] = mapped_column(String(200))  # the chat (or session) events are ordered by
    status: Mapped[str] = mapped_column(String(20))  # pending, succeeded, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_until: Mapped[datetime | None]
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Retries go on until this plus the policy's window (a redelivery restarts it).
    retry_from: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_chain", "endpoint_id", "chain", "status", "id"),
    )


class WebhookAttempt(Base):
    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    attempted_at: Mapped[datetime] = mapped_column(default=utcnow)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    latency_ms: Mapped[int] = mapped_column(Integer)
    response_excerpt: Mapped[str | None] = mapped_column(Text)


# -- contacts and groups -------------------------------------------------------------------


class SessionContact(Base):
    """A contact as a session's phone knows it, kept current by the engine's reports."""

    __tablename__ = "contacts"

    session_pk: Mapped[int] = mapped_column(
        ForeignKey("wa_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    jid: Mapped[str] = mapped_column(String(128), primary_key=True)
    phone: Mapped[str] = mapped_column(String(32))
    saved_name: Mapped[str | None] = mapped_column(String(256))  # the phone's address book
    push_name: Mapped[str | None] = mapped_column(String(256))  # the name the contact chose
    business_name: Mapped[str | None] = mapped_column(String(256))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CachedGroup(Base):
    """What a session last learned about one of its groups, so reads need not ask WhatsApp.

    A group event bumps `generation` and sets `stale`; a refresh clears `stale` only if no
    event arrived while it was asking WhatsApp (the generation it read is still current).
    """

    __tablename__ = "group_cache"

    session_pk: Mapped[int] = mapped_column(
        ForeignKey("wa_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    jid: Mapped[str] = mapped_column(String(64), primary_key=True)
    subject: Mapped[str] = mapped_column(String(256))
    description: Mapped[str | None] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(String(128))
    creation: Mapped[int] = mapped_column(Integer)  # unix seconds
    announce: Mapped[bool] = mapped_column(Boolean)  # only admins send
    locked: Mapped[bool] = mapped_column(Boolean)  # "restrict": only admins edit the info
    # [{"jid", "phone", "role"}] in WhatsApp's order.
    participants: Mapped[list[dict[str, str | None]]] = mapped_column(JSON)
    generation: Mapped[int] = mapped_column(Integer, default=0)
    stale: Mapped[bool] = mapped_column(Boolean, default=False)
    # None until WhatsApp was first asked: an event about a group not seen yet leaves a
    # stale placeholder, which reads refresh and never show as it is.
    refreshed_at: Mapped[datetime | None]


class SessionSync(Base):
    """When a session's whole contact list and group list were last read from WhatsApp."""

    __tablename__ = "session_syncs"

    session_pk: Mapped[int] = mapped_column(
        ForeignKey("wa_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    contacts_synced_at: Mapped[datetime | None]
    groups_synced_at: Mapped[datetime | None]


class Node(Base):
    """A server (`sendmako serve`) that runs on this database, and its lease on it
    (sessions/lease.py). One row per node, kept across its restarts."""

    __tablename__ = "nodes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Host and data directory (wiring.node_name): the same on a restart, unlike the pid.
    name: Mapped[str] = mapped_column(String(100), unique=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    data_dir: Mapped[str] = mapped_column(String(1024))
    url: Mapped[str] = mapped_column(String(2048))  # its public URL
    status: Mapped[str] = mapped_column(String(20))
    # Grows each time any node takes a lease: a write carrying a smaller one is stale.
    token: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime]
    heartbeat_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class UsageDay(Base):
    """A user's messages sent on one day (UTC), counted as they go out (accounts/usage.py)."""

    __tablename__ = "usage_days"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    sent: Mapped[int] = mapped_column(Integer)


class QuotaHold(Base):
    """Room in a user's daily quota held by sends in progress on one node. It counts as long
    as that node holds its lease with `node_token`: a node that dies frees what it held."""

    __tablename__ = "quota_holds"
    __table_args__ = (Index("ix_quota_holds_user_day", "user_id", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    count: Mapped[int] = mapped_column(Integer)
    node_token: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ServerSecret(Base):
    """A secret every node must share (the dashboard's cookie key), made on the first start."""

    __tablename__ = "server_secrets"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
