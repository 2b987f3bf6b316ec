"""Sandbox address books: the contacts each simulated phone has saved, in the database.

What `contacts()` returns is what WhatsApp would: the saved numbers that are on WhatsApp,
with the saved name and, for numbers linked to another sandbox session of the same account,
the push name that session chose (never one of another account's sessions: the sandbox
tells no account anything of the others'). Changing an address book tells the session with
`ContactsChanged`, the way a phone tells its linked devices; a session that is not
connected reads the address book when it connects.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sendmako.engines.sandbox.network import SandboxNetwork
from sendmako.engines.sandbox.store import contacts as sandbox_contacts
from sendmako.engines.sandbox.store.contacts import Known
from sendmako.errors import BadRequest
from sendmako.ids import Jid
from sendmako.model.directory import Contact
from sendmako.model.events import (
    ContactsChanged,
)
from sendmako.model.simulation import AddressBookEntry, KnownContact
from sendmako.model.statuses import SessionStatus
from sendmako.storage.db import Database

if TYPE_CHECKING:
    from sendmako.engines.sandbox.engine import SandboxSession

# Numbers one sandbox phone may have saved: a real address book rarely holds more, and it
# bounds what one session makes the server store and send with each contact list.
MAX_ADDRESS_BOOK = 5000


class SandboxAddressBooks:
    def __init__(self, db: Database, network: SandboxNetwork) -> None:
        self.db = db
        self.network = network

    async def contacts(self, session_pk: int, phones: Sequence[str] | None = None) -> list[Contact]:
        async with self.db.read() as db:
            known = await sandbox_contacts.list_for(db, session_pk, phones)
        return [_contact(entry) for entry in known if self.network.on_whatsapp(entry.phone)]

    async def entries(self, session_pk: int) -> list[KnownContact]:
        """The whole address book, numbers not on WhatsApp included."""
        async with self.db.read() as db:
            known = await sandbox_contacts.list_for(db, session_pk)
        return [
            KnownContact(k.phone, k.name, k.push_name, self.network.on_whatsapp(k.phone))
            for k in known
        ]

    async def replace(self, session: SandboxSession, entries: Sequence[AddressBookEntry]) -> None:
        unique = {entry.phone for entry in entries}
        if len(unique) > MAX_ADDRESS_BOOK:
            raise _full(f"{len(unique):,} were given")
        async with self.db.write() as tx:
            await sandbox_contacts.replace(tx, session.spec.row_id, entries)
        if session.status is SessionStatus.CONNECTED:
            everyone = await self.contacts(session.spec.row_id)
            await session.deliver(ContactsChanged(tuple(everyone), complete=True))

    async def add(self, session: SandboxSession, entries: Sequence[AddressBookEntry]) -> None:
        """Add `entries`; 400 `address_book_full` when the new numbers would not fit."""
        phones = list({entry.phone for entry in entries})
        async with self.db.write() as tx:
            pk = session.spec.row_id
            await sandbox_contacts.lock_book(tx, pk)
            held = await sandbox_contacts.size(tx, pk)
            new = len(phones) - await sandbox_contacts.present(tx, pk, phones)
            if held + new > MAX_ADDRESS_BOOK:
                raise _full(f"this one holds {held:,} and {new:,} would be new")
            await sandbox_contacts.add(tx, pk, entries)
        if session.status is SessionStatus.CONNECTED:
            added = await self.contacts(session.spec.row_id, [entry.phone for entry in entries])
            if added:
                await session.deliver(ContactsChanged(tuple(added)))


def _contact(entry: Known) -> Contact:
    return Contact(
        jid=Jid.user_jid(entry.phone),
        phone=entry.phone,
        saved_name=entry.name,
        push_name=entry.push_name,
    )


def _full(detail: str) -> BadRequest:
    return BadRequest(
        f"contacts: a sandbox address book holds at most {MAX_ADDRESS_BOOK:,} numbers; "
        f"{detail}. Remove numbers first (PUT replaces the whole address book).",
        field="contacts",
        code="address_book_full",
    )
