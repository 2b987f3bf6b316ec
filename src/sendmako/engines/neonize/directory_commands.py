"""Commands about people and groups rather than messages: the address book, groups and
their members, settings, invites and pictures."""

from __future__ import annotations

from neonize.utils.enum import ParticipantChange

from sendmako.engines.base import performs
from sendmako.engines.neonize import directory
from sendmako.engines.neonize.errors import Context
from sendmako.engines.neonize.ffi import FFI, proto_jid
from sendmako.errors import BadRequest, OperationFailed
from sendmako.ids import Jid
from sendmako.model.directory import (
    CheckNumbers,
    Contact,
    CreateGroup,
    GetGroup,
    GetGroupPicture,
    GetInviteCode,
    GetInviteInfo,
    GetProfilePicture,
    GroupInfo,
    JoinGroup,
    LeaveGroup,
    ListContacts,
    ListGroups,
    NumberStatus,
    ParticipantResult,
    UpdateGroupSettings,
    UpdateParticipants,
)

INVITE_PREFIX = "https://chat.whatsapp.com/"


class DirectoryCommands(FFI):
    # -- contacts -----------------------------------------------------------------------

    @performs(ListContacts)
    def contacts(self, _: ListContacts) -> list[Contact]:
        # contact.* crashes the process unless logged in (`contact` itself is a Python object)
        found = self._logged_in_call(Context.OTHER, self.client.contact.get_all_contacts)
        return directory.contacts(found)

    # -- people ------------------------------------------------------------------------

    @performs(CheckNumbers)
    def check_numbers(self, action: CheckNumbers) -> list[NumberStatus]:
        """One question to WhatsApp for all the numbers. WhatsApp may answer with a hidden
        @lid JID: the answer still names the number asked."""
        phones = action.phones
        if not phones:
            return []
        if not all(phone.isdigit() for phone in phones):
            raise BadRequest("phones: digits with the country code", field="phones")
        queries = ["+" + phone for phone in dict.fromkeys(phones)]
        try:
            answers = self._call(Context.OTHER, lambda: self.client.is_on_whatsapp(*queries))
        except OperationFailed as exc:
            if "returned nothing" not in exc.message.lower():
                raise
            answers = []  # neonize's word for an empty answer: none of them is
        found: dict[str, Jid] = {}
        for answer in answers:
            if answer.IsIn and answer.JID.User:
                found[str(answer.Query).lstrip("+")] = directory.jid_of(answer.JID)
        return [
            NumberStatus(phone=phone, on_whatsapp=phone in found, jid=found.get(phone))
            for phone in phones
        ]

    @performs(GetProfilePicture)
    def profile_picture_url(self, action: GetProfilePicture) -> str | None:
        return self._picture_url(action.jid.without_device(), Context.OTHER)

    # -- groups -------------------------------------------------------------------------

    @performs(ListGroups)
    def groups(self, _: ListGroups) -> list[GroupInfo]:
        found = self._call(Context.GROUP, self.client.get_joined_groups)
        return [directory.group_info(info) for info in found]

    @performs(GetGroup)
    def group_info(self, action: GetGroup) -> GroupInfo:
        return directory.group_info(self._raw_group_info(action.group))

    def _raw_group_info(self, group: Jid) -> object:
        jid = proto_jid(group)
        return self._call(Context.GROUP, lambda: self.client.get_group_info(jid))

    @performs(CreateGroup)
    def create_group(self, action: CreateGroup) -> GroupInfo:
        members = [proto_jid(jid) for jid in action.participants]
        subject = action.subject
        info = self._call(Context.GROUP, lambda: self.client.create_group(subject, members))
        return directory.group_info(info)

    @performs(UpdateParticipants)
    def update_participants(self, action: UpdateParticipants) -> list[ParticipantResult]:
        change = ParticipantChange(action.action.value)
        members = [proto_jid(jid) for jid in action.participants]
        group = proto_jid(action.group)
        answered = self._call(
            Context.GROUP,
            lambda: self.client.update_group_participants(group, members, change),
        )
        return directory.participant_results(
            list(action.participants), list(answered), action.action
        )

    @performs(UpdateGroupSettings)
    def update_group_settings(self, action: UpdateGroupSettings) -> GroupInfo:
        group, change = action.group, action.change
        jid = proto_jid(group)
        if change.subject is not None:
            subject = change.subject
            self._call(Context.GROUP, lambda: self.client.set_group_name(jid, subject))
        if change.description is not None:
            topic = change.description
            # Empty ids: whatsmeow fetches the previous one and makes the new one itself.
            self._call(Context.GROUP, lambda: self.client.set_group_topic(jid, "", "", topic))
        if change.announce is not None:
            announce = change.announce
            self._call(Context.GROUP, lambda: self.client.set_group_announce(jid, announce))
        if change.restrict is not None:
            restrict = change.restrict
            self._call(Context.GROUP, lambda: self.client.set_group_locked(jid, restrict))
        return directory.group_info(self._raw_group_info(group))

    @performs(GetInviteCode)
    def invite_code(self, action: GetInviteCode) -> str:
        group, reset = proto_jid(action.group), action.reset
        link = self._call(Context.GROUP, lambda: self.client.get_group_invite_link(group, reset))
        return str(link).removeprefix(INVITE_PREFIX).rsplit("/", 1)[-1]

    @performs(GetInviteInfo)
    def invite_info(self, action: GetInviteInfo) -> GroupInfo:
        code = action.code
        info = self._call(Context.INVITE, lambda: self.client.get_group_info_from_link(code))
        return directory.group_info(info)

    @performs(JoinGroup)
    def join_with_invite(self, action: JoinGroup) -> Jid:
        code = action.code
        joined = self._call(Context.INVITE, lambda: self.client.join_group_with_link(code))
        return directory.jid_of(joined)

    @performs(GetGroupPicture)
    def group_picture_url(self, action: GetGroupPicture) -> str | None:
        return self._picture_url(action.group, Context.GROUP)

    @performs(LeaveGroup)
    def leave_group(self, action: LeaveGroup) -> None:
        group = proto_jid(action.group)
        self._call(Context.GROUP, lambda: self.client.leave_group(group))
