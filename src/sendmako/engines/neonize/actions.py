"""The actions a neonize worker performs: the one list both sides are built from.

- The server's `NeonizeSession` forwards exactly these to its worker, so they are what the
  neonize engine can do (its capabilities).
- The worker's `Commands` must perform exactly these: `commands.py` checks it when it is
  imported, so a worker with a missing or extra command never starts.
- The protocol decodes exactly the types these actions, their answers and the engine
  events are made of (`protocol.WIRE_TYPES`, derived from this list).

Adding an action to the neonize engine: a line here and a method in commands.py.
This module imports nothing of neonize: the server process never loads it.
"""

from __future__ import annotations

from typing import Any

from sendmako.model.actions import Action
from sendmako.model.calls import RejectCall
from sendmako.model.chats import MarkRead, SendChatState, SetPresence, SubscribePresence
from sendmako.model.directory import (
    CheckNumbers,
    CreateGroup,
    GetGroup,
    GetGroupPicture,
    GetInviteCode,
    GetInviteInfo,
    GetProfilePicture,
    JoinGroup,
    LeaveGroup,
    ListContacts,
    ListGroups,
    UpdateGroupSettings,
    UpdateParticipants,
)
from sendmako.model.messages import (
    EditMessage,
    OutgoingMessage,
    PollVote,
    Reaction,
    RevokeMessage,
)
from sendmako.model.profile import GetProfile, SetProfilePicture, UpdateProfile

WORKER_ACTIONS: frozenset[type[Action[Any]]] = frozenset(
    {
        # messages (polls among them), and acting on one already in a chat
        OutgoingMessage,
        Reaction,
        EditMessage,
        RevokeMessage,
        PollVote,
        # contacts and groups
        ListContacts,
        ListGroups,
        GetGroup,
        CreateGroup,
        UpdateParticipants,
        UpdateGroupSettings,
        GetInviteCode,
        GetInviteInfo,
        JoinGroup,
        GetGroupPicture,
        LeaveGroup,
        # chats
        MarkRead,
        SendChatState,
        SetPresence,
        SubscribePresence,
        RejectCall,
        # people and this number's profile
        CheckNumbers,
        GetProfilePicture,
        GetProfile,
        UpdateProfile,
        SetProfilePicture,
    }
)
