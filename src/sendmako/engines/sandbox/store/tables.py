"""The sandbox's own tables: simulated phones, address books and groups.

They are declared on the server's declarative base, so that a sandbox session's rows go when
its session row does (foreign keys to `wa_sessions`). The shared migrations made them in
the past (0001, 0004), and `SandboxEngine.start` creates any that are missing, so the
shared storage package never needs to know them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sendmako.storage.tables import Base, utcnow


class SandboxDevice(Base):
    """A sandbox session's link to a simulated phone (survives restarts)."""

    __tablename__ = "sandbox_devices"

    session_pk: Mapped[int] = mapped_column(
        ForeignKey("wa_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    phone_number: Mapped[str] = mapped_column(String(32), index=True)
    push_name: Mapped[str | None] = mapped_column(String(100))
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)


class SandboxContact(Base):
    """An entry of a sandbox session's simulated address book."""

    __tablename__ = "sandbox_contacts"

    session_pk: Mapped[int] = mapped_column(
        ForeignKey("wa_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    phone: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(256))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class SandboxGroup(Base):
    """A group of the simulated network. Groups belong to phone numbers, not sessions:
    every sandbox session linked to a member's number sees it."""

    __tablename__ = "sandbox_groups"

    jid: Mapped[str] = mapped_column(String(64), primary_key=True)
    subject: Mapped[str] = mapped_column(String(256))
    description: Mapped[str | None] = mapped_column(Text)
    owner_phone: Mapped[str | None] = mapped_column(String(32))
    creation: Mapped[int] = mapped_column(Integer)  # unix seconds
    announce: Mapped[bool] = mapped_column(Boolean, default=False)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    invite_code: Mapped[str | None] = mapped_column(String(32), unique=True)


class SandboxGroupMember(Base):
    """A number in a sandbox group. `id` grows with each join: the smallest is the
    longest-standing member (promoted when the last admin leaves)."""

    __tablename__ = "sandbox_group_members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_jid: Mapped[str] = mapped_column(ForeignKey("sandbox_groups.jid", ondelete="CASCADE"))
    phone: Mapped[str] = mapped_column(String(32), index=True)
    role: Mapped[str] = mapped_column(String(12))  # member, admin, superadmin
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("group_jid", "phone", name="uq_sandbox_group_member"),)


class SandboxProfile(Base):
    """What a simulated phone shows of itself beyond its push name: its about line and its
    picture (a file of the sandbox's media CDN)."""

    __tablename__ = "sandbox_profiles"

    phone: Mapped[str] = mapped_column(String(32), primary_key=True)
    about: Mapped[str | None] = mapped_column(String(256))
    picture_token: Mapped[str | None] = mapped_column(String(64))


class SandboxMedia(Base):
    """A file of the sandbox's media CDN, kept where every node reads it (several nodes;
    migration 0013). `encrypted`: a message's file, as WhatsApp's CDN holds it; otherwise a
    picture, public like WhatsApp's."""

    __tablename__ = "sandbox_media"

    token: Mapped[str] = mapped_column(String(32), primary_key=True)
    encrypted: Mapped[bool] = mapped_column(Boolean)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


TABLES = tuple(
    Base.metadata.tables[name]
    for name in (
        "sandbox_devices",
        "sandbox_contacts",
        "sandbox_groups",
        "sandbox_group_members",
        "sandbox_profiles",
        "sandbox_media",
    )
)
