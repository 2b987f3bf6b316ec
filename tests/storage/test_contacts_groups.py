"""Contacts, the group cache and the sandbox's groups and address books behave the same
on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from sendmako.engines.sandbox.store import contacts as sandbox_contacts
from sendmako.engines.sandbox.store import devices as sandbox_devices
from sendmako.engines.sandbox.store import groups as sandbox_groups
from sendmako.ids import Jid
from sendmako.model.directory import Contact, GroupInfo, GroupParticipant, ParticipantRole
from sendmako.model.simulation import AddressBookEntry
from sendmako.storage import contacts, groups, session_syncs, users, wa_sessions
from sendmako.storage.db import Database

GROUP = "120363111111111111@g.us"


async def new_session(db: Database, email: str = "a@example.com") -> int:
    async with db.write() as tx:
        user = await users.create(tx, email, plan="free")
        record = await wa_sessions.create(
            tx,
            user.id,
            session_name="x",
            engine="sandbox",
            status="connected",
            pacing_ms=0,
            owner="n",
        )
    return record.id


def contact(phone: str, **names: str | None) -> Contact:
    return Contact(Jid.user_jid(phone), phone, **names)


def group_info(subject: str, *phones: str) -> GroupInfo:
    return GroupInfo(
        jid=Jid.parse(GROUP),
        subject=subject,
        description=None,
        owner=Jid.user_jid(phones[0]) if phones else None,
        created_at=1711209600,
        announce=False,
        restrict=True,
        participants=tuple(
            GroupParticipant(
                Jid.user_jid(p), p, ParticipantRole.SUPERADMIN if i == 0 else ParticipantRole.MEMBER
            )
            for i, p in enumerate(phones)
        ),
    )


async def test_contacts_merge_keeps_names_a_report_leaves_out(db: Database) -> None:
    pk = await new_session(db)
    async with db.write() as tx:
        await contacts.merge(
            tx, pk, [contact("22241857975", saved_name="Alassane", push_name="Ala")], complete=True
        )
        await contacts.merge(tx, pk, [contact("22241857975", business_name="Boutique")])
    async with db.read() as session:
        (stored,) = await contacts.list_for(session, pk)
    assert (stored.saved_name, stored.push_name, stored.business_name) == (
        "Alassane",
        "Ala",
        "Boutique",
    )


async def test_a_complete_report_is_the_whole_address_book(db: Database) -> None:
    """Contacts it does not list go; its saved names (even none) are the phone's now."""
    pk = await new_session(db)
    async with db.write() as tx:
        await contacts.merge(
            tx,
            pk,
            [contact("22241857975", saved_name="Alassane"), contact("221781234567")],
            complete=True,
        )
        await contacts.merge(tx, pk, [contact("22241857975", push_name="Ala")], complete=True)
    async with db.read() as session:
        (stored,) = await contacts.list_for(session, pk)
    assert (stored.phone, stored.saved_name, stored.push_name) == ("22241857975", None, "Ala")


async def test_push_names_only_update_known_contacts(db: Database) -> None:
    pk = await new_session(db)
    async with db.write() as tx:
        await contacts.merge(tx, pk, [contact("22241857975")])
        assert await contacts.set_push_name(tx, pk, "22241857975@s.whatsapp.net", "Ala")
        assert not await contacts.set_push_name(tx, pk, "22241857975@s.whatsapp.net", "Ala")
        assert not await contacts.set_push_name(tx, pk, "221781234567@s.whatsapp.net", "Fatou")
    async with db.read() as session:
        assert [c.name for c in await contacts.list_for(session, pk)] == ["Ala"]


async def test_the_group_cache_stores_what_whatsapp_said(db: Database) -> None:
    pk = await new_session(db)
    info = group_info("Famille", "22241857975", "221781234567")
    async with db.write() as tx:
        await groups.store(tx, pk, info, seen_generation=None)
    async with db.read() as session:
        cached = await groups.get(session, pk, GROUP)
    assert cached is not None
    assert (cached.info, cached.stale, cached.refreshed, cached.generation) == (
        info,
        False,
        True,
        0,
    )


async def test_a_refresh_that_raced_an_event_stays_stale(db: Database) -> None:
    """An event between reading the generation and storing WhatsApp's answer wins: the row
    stays stale, so the next read asks again."""
    pk = await new_session(db)
    async with db.write() as tx:
        await groups.store(tx, pk, group_info("Famille", "22241857975"), seen_generation=None)
        await groups.mark_stale(tx, pk, GROUP)
    async with db.read() as session:
        seen = await groups.get(session, pk, GROUP)
    assert seen is not None
    assert (seen.stale, seen.generation) == (True, 1)
    async with db.write() as tx:
        await groups.mark_stale(tx, pk, GROUP)  # a second event while WhatsApp answers
        await groups.store(tx, pk, group_info("Cousins", "22241857975"), seen_generation=1)
    async with db.read() as session:
        raced = await groups.get(session, pk, GROUP)
    assert raced is not None
    assert (raced.info.subject, raced.stale) == ("Cousins", True)
    async with db.write() as tx:
        await groups.store(tx, pk, group_info("Oncles", "22241857975"), seen_generation=2)
    async with db.read() as session:
        fresh = await groups.get(session, pk, GROUP)
    assert fresh is not None
    assert (fresh.info.subject, fresh.stale) == ("Oncles", False)


async def test_an_event_about_an_unknown_group_leaves_a_placeholder(db: Database) -> None:
    pk = await new_session(db)
    async with db.write() as tx:
        await groups.mark_stale(tx, pk, GROUP)
    async with db.read() as session:
        (placeholder,) = await groups.list_for(session, pk)
    assert (placeholder.stale, placeholder.refreshed) == (True, False)


async def test_replacing_the_list_spares_groups_touched_meanwhile(db: Database) -> None:
    pk = await new_session(db)
    other = "120363222222222222@g.us"
    async with db.write() as tx:
        await groups.store(tx, pk, group_info("Famille", "22241857975"), seen_generation=None)
    async with db.read() as session:
        seen = await groups.generations(session, pk)
    async with db.write() as tx:
        await groups.mark_stale(tx, pk, other)  # joined while the list was on its way
        await groups.replace_all(tx, pk, [], seen)
    async with db.read() as session:
        assert [c.info.jid for c in await groups.list_for(session, pk)] == [Jid.parse(other)]


async def test_sync_markers(db: Database) -> None:
    pk = await new_session(db)
    async with db.write() as tx:
        await session_syncs.mark_synced(tx, pk, "groups")
        await session_syncs.mark_synced(tx, pk, "groups")
    async with db.read() as session:
        assert await session_syncs.synced_at(session, pk, "groups") is not None
        assert await session_syncs.synced_at(session, pk, "contacts") is None
    async with db.write() as tx:
        await session_syncs.forget(tx, pk, "groups")
    async with db.read() as session:
        assert await session_syncs.synced_at(session, pk, "groups") is None


async def test_sandbox_groups_keep_members_in_joining_order(db: Database) -> None:
    async with db.write() as tx:
        await sandbox_groups.create(tx, GROUP, subject="Famille", owner_phone="1", creation=1)
        for phone, role in (("1", "superadmin"), ("3", "member"), ("2", "member")):
            await sandbox_groups.add_member(tx, GROUP, phone, role)
        await sandbox_groups.set_role(tx, GROUP, "2", "admin")
        await sandbox_groups.change(tx, GROUP, invite_code="AbCdEfGhIjKlMn", announce=True)
    async with db.read() as session:
        state = await sandbox_groups.get(session, GROUP)
        assert state == await sandbox_groups.by_invite(session, "AbCdEfGhIjKlMn")
        assert [g.jid for g in await sandbox_groups.of_phone(session, "3")] == [GROUP]
        assert await sandbox_groups.of_phone(session, "4") == []
    assert state is not None
    assert [(m.phone, m.role) for m in state.members] == [
        ("1", "superadmin"),
        ("3", "member"),
        ("2", "admin"),
    ]
    assert state.announce is True
    with pytest.raises(IntegrityError):
        async with db.write() as tx:
            await sandbox_groups.add_member(tx, GROUP, "3", "member")
    async with db.write() as tx:
        await sandbox_groups.delete_group(tx, GROUP)
    async with db.read() as session:
        assert await sandbox_groups.get(session, GROUP) is None


async def test_sandbox_address_books_show_push_names_of_linked_numbers(db: Database) -> None:
    pk = await new_session(db)
    async with db.write() as tx:
        await sandbox_devices.link(tx, "user_1", "221781234567", "Fatou")
        await sandbox_contacts.replace(
            tx,
            pk,
            [
                AddressBookEntry("221781234567", None),
                AddressBookEntry("22241857975", "Alassane"),
            ],
        )
        await sandbox_contacts.add(tx, pk, [AddressBookEntry("22241857975", "Ala")])
    async with db.read() as session:
        known = await sandbox_contacts.list_for(session, pk)
    assert [(k.phone, k.name, k.push_name) for k in known] == [
        ("221781234567", None, "Fatou"),
        ("22241857975", "Ala", None),
    ]


async def test_deleting_a_session_deletes_its_contacts_and_cache(db: Database) -> None:
    pk = await new_session(db)
    async with db.write() as tx:
        await contacts.merge(tx, pk, [contact("22241857975")])
        await groups.store(tx, pk, group_info("Famille", "22241857975"), seen_generation=None)
        await session_syncs.mark_synced(tx, pk, "contacts")
        await sandbox_contacts.add(tx, pk, [AddressBookEntry("22241857975", None)])
        await wa_sessions.delete_one(tx, "user_1")
    async with db.read() as session:
        assert await contacts.list_for(session, pk) == []
        assert await groups.list_for(session, pk) == []
        assert await session_syncs.synced_at(session, pk, "contacts") is None
        assert await sandbox_contacts.list_for(session, pk) == []
