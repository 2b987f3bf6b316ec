"""neonize's events that are not messages, as our events: someone online or typing, a
group's members or settings changing, a call coming in.

Pure functions of neonize's protobufs, like `convert.py` (whose way of naming people they
share: a phone number, its hidden id beside it); tests feed them events built with
neonize's own classes. Runs in the worker process.
"""

from __future__ import annotations

from typing import Any

from neonize.events import (
    CallOfferEv,
    CallOfferNoticeEv,
    ChatPresenceEv,
    GroupInfoEv,
    JoinedGroupEv,
    PresenceEv,
)

from sendmako.engines.neonize.convert import (
    LidResolver,
    chat_of,
    is_set,
    jid_text,
    same_person,
    someone,
)
from sendmako.ids import GROUP_SERVER
from sendmako.model.events import (
    CallReceived,
    GroupChanged,
    GroupParticipantsChanged,
    GroupSettingsChanged,
    PresenceChanged,
    Someone,
    WhatsAppEvent,
)

# -- presence ---------------------------------------------------------------------------


def presence_changed(ev: PresenceEv, resolve: LidResolver | None = None) -> PresenceChanged:
    """Online or offline. whatsmeow gives a zero time (-62135596800) when the last seen is
    hidden or unknown: that is no time at all."""
    last_seen = int(ev.LastSeen)
    return PresenceChanged(
        person=someone(ev.From, None, resolve),
        state="unavailable" if ev.Unavailable else "available",
        last_seen=last_seen if last_seen > 0 else None,
    )


def chat_presence_changed(
    ev: ChatPresenceEv, resolve: LidResolver | None = None
) -> PresenceChanged | None:
    """Typing, recording a voice note (composing audio), or stopped, in a chat."""
    source = ev.MessageSource
    if ev.State == ChatPresenceEv.PAUSED:
        state = "paused"
    elif ev.State == ChatPresenceEv.COMPOSING:
        state = "recording" if ev.Media == ChatPresenceEv.AUDIO else "composing"
    else:
        return None
    return PresenceChanged(
        person=someone(source.Sender, source.SenderAlt, resolve),
        state=state,
        chat=chat_of(source, resolve),
    )


# -- groups -----------------------------------------------------------------------------


def joined_group(ev: JoinedGroupEv) -> GroupChanged:
    return GroupChanged(group_jid=jid_text(ev.GroupInfo.JID))


# A list of members in GroupInfoEv, and what it means when they did it themselves or when
# someone else (the event's sender) did it to them.
_MEMBERSHIP = (
    ("Join", "join", "add"),
    ("Leave", "leave", "remove"),
    ("Promote", "promote", "promote"),
    ("Demote", "demote", "demote"),
)


def group_events(
    ev: GroupInfoEv, own_users: frozenset[str], resolve: LidResolver | None = None
) -> list[WhatsAppEvent]:
    """What changed in a group: who joined, left, was added, removed, promoted or
    demoted, and by whom; its subject, description and settings; always followed by
    `GroupChanged` for the group cache (`left` when this number is no longer in it)."""
    if ev.JID.Server != GROUP_SERVER:
        return []
    group = jid_text(ev.JID)
    timestamp = int(ev.Timestamp)
    actor = ev.Sender if ev.HasField("Sender") and is_set(ev.Sender) else None
    by = someone(actor, None, resolve) if actor is not None else None
    found: list[WhatsAppEvent] = []
    for field, themselves, to_them in _MEMBERSHIP:
        members = [someone(jid, None, resolve) for jid in getattr(ev, field)]
        own_doing = tuple(m for m in members if by is None or same_person(m, by))
        done_to = tuple(m for m in members if by is not None and not same_person(m, by))
        for action, who, doer in ((themselves, own_doing, None), (to_them, done_to, by)):
            if who:
                found.append(
                    GroupParticipantsChanged(
                        group=group,
                        action=action,
                        participants=who,
                        by=doer,
                        timestamp=timestamp,
                    )
                )
    settings = _settings(ev, group, by, timestamp, resolve)
    if settings is not None:
        found.append(settings)
    left = any(jid.User in own_users for jid in ev.Leave)
    found.append(GroupChanged(group_jid=group, left=left))
    return found


def _settings(
    ev: GroupInfoEv,
    group: str,
    by: Someone | None,
    timestamp: int,
    resolve: LidResolver | None,
) -> GroupSettingsChanged | None:
    changes: dict[str, Any] = {}
    if ev.HasField("Name"):
        changes["subject"] = str(ev.Name.Name)
        by = by or _set_by(ev.Name.NameSetBy, resolve)
    if ev.HasField("Topic"):
        changes["description"] = "" if ev.Topic.TopicDeleted else str(ev.Topic.Topic)
        by = by or _set_by(ev.Topic.TopicSetBy, resolve)
    if ev.HasField("Announce"):
        changes["announce"] = bool(ev.Announce.IsAnnounce)
    if ev.HasField("Locked"):
        changes["restrict"] = bool(ev.Locked.isLocked)
    if not changes:
        return None
    return GroupSettingsChanged(group=group, by=by, timestamp=timestamp, **changes)


def _set_by(jid: Any, resolve: LidResolver | None) -> Someone | None:
    return someone(jid, None, resolve) if is_set(jid) else None


# -- calls ------------------------------------------------------------------------------


def call_received(ev: CallOfferEv, resolve: LidResolver | None = None) -> CallReceived:
    """A one-to-one call offer. neonize carries no "video" flag: the offer's own node has
    a <video> child when it is a video call."""
    meta = ev.basicCallMeta
    video = any(node.Tag == "video" for node in ev.data.Nodes)
    return CallReceived(
        call_id=str(meta.callID),
        caller=someone(meta.callCreator, meta.callCreatorAlt, resolve),
        video=video,
        timestamp=int(meta.timestamp),
    )


def group_call_received(ev: CallOfferNoticeEv, resolve: LidResolver | None = None) -> CallReceived:
    """A group call, announced with its media ("audio" or "video") and type ("group")."""
    meta = ev.basicCallMeta
    return CallReceived(
        call_id=str(meta.callID),
        caller=someone(meta.callCreator, meta.callCreatorAlt, resolve),
        video=ev.media == "video",
        timestamp=int(meta.timestamp),
        is_group=ev.type == "group",
    )
