"""What the send policy costs a send: `Governor.admit` with the careful defaults (its caps
raised so that nothing is held back, so every rule is evaluated and every send counted),
against a floor measured in the same run: the send route's own validation of the same
message (the recipient's number, the fields its type needs), which every send pays anyway.

Two cases: a known contact (remembered after its first lookup: no database read) and a new
contact each time (one indexed read of the stored messages on SQLite, to learn that it is
new). Prints microseconds per send and the ratio to the floor.

    .venv/bin/python bench/bench_send_policy.py      # BENCH_SENDS
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sendmako.ids import Jid
from sendmako.messaging.send_policy import Governor, Sending
from sendmako.messaging.sender import SendRequest, check, parse_recipient
from sendmako.model.messages import MessageType, OutgoingMessage
from sendmako.model.send_policy import SendPolicy
from sendmako.storage.db import Database

SENDS = int(os.environ.get("BENCH_SENDS", "5000"))
# The defaults' rules, each evaluated, none reached.
POLICY = SendPolicy(
    per_hour=10 * SENDS,
    per_day=10 * SENDS,
    new_contacts_per_day=10 * SENDS,
    same_text_new_contacts=10 * SENDS,
    warmup=False,  # its cap would hold the run back; its check costs as little as per_day's
)


def floor(sends: int) -> float:
    request = SendRequest(type=MessageType.TEXT, text="Bonjour depuis Sendmako !")
    started = time.perf_counter()
    for index in range(sends):
        parse_recipient(f"+221 78 {index % 1000:03d} 45 67")
        check(request)
    return (time.perf_counter() - started) / sends


async def admitted(governor: Governor, sends: int, *, new: bool) -> float:
    sending = Sending(f"user_{1 if new else 2}", POLICY, None)
    # The session's counts are read once, at its first send: not what a send costs.
    warm = OutgoingMessage(Jid.user_jid("221700000000"), MessageType.TEXT, text="Salut")
    (await governor.admit(sending, warm)).sent()
    started = time.perf_counter()
    for index in range(sends):
        phone = f"2217{index:08d}" if new else "221781234567"
        message = OutgoingMessage(Jid.user_jid(phone), MessageType.TEXT, text="Bonjour !")
        (await governor.admit(sending, message)).sent()
    return (time.perf_counter() - started) / sends


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite+aiosqlite:///{tmp}/bench.db")
        await db.migrate()
        governor = Governor(db)
        floor(100)  # phonenumbers' metadata loads at its first use
        base = floor(SENDS)
        known = await admitted(governor, SENDS, new=False)
        new = await admitted(governor, SENDS, new=True)
        await db.close()
    print(f"sends: {SENDS} per case, one process, SQLite")
    print(f"floor (the route's own validation): {base * 1e6:8.1f} µs/send")
    print(f"admit, known contact:               {known * 1e6:8.1f} µs/send  {known / base:5.2f}x")
    print(f"admit, new contact (one DB read):   {new * 1e6:8.1f} µs/send  {new / base:5.2f}x")


if __name__ == "__main__":
    asyncio.run(main())
