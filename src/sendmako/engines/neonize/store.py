"""What whatsmeow's device store holds: the devices a worker may resume (see `keys.py` for
where the store lives). neonize is imported lazily, when the worker first lists devices.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sendmako.errors import Unavailable

_DEVICE_SEPARATOR = "|\u0001|"  # what neonize's Go GetAllDevices puts between devices


@dataclass(frozen=True, slots=True)
class StoredDevice:
    """A device the store holds keys for."""

    jid: str  # as whatsmeow writes it: `5511999990001:12@s.whatsapp.net`
    proto: Any  # the JID protobuf to resume it with

    @property
    def phone(self) -> str:
        return self.jid.split("@", 1)[0].split(":", 1)[0].split(".", 1)[0]

    def matches(self, jid: str) -> bool:
        return _device_key(jid) == _device_key(self.jid)


def _device_key(jid: str) -> tuple[str, str, str]:
    user_part, _, server = jid.partition("@")
    user, _, device = user_part.partition(":")
    return user.split(".", 1)[0], device or "0", server


def list_devices(store: str) -> list[StoredDevice]:
    """The devices in `store` (creating and migrating the store if it is new).

    Calls the Go function that `ClientFactory.get_all_devices_from_db` wraps, and parses its
    answer itself: the wrapper splits each device on every comma, so a push name with a
    comma raises, and it reads an error string as a device.
    """
    from neonize._binder import func_callback_bytes2, gocode
    from neonize.utils.jid import build_jid
    from neonize.utils.log import log_whatsmeow

    callback = func_callback_bytes2(log_whatsmeow)
    raw = gocode.GetAllDevices(store.encode(), callback).decode()
    if raw.startswith("error: "):
        raise Unavailable(f"The WhatsApp device store cannot be opened: {raw[7:]}")
    devices = []
    for entry in filter(None, raw.split(_DEVICE_SEPARATOR)):
        jid = entry.split(",", 1)[0]  # the JID never holds a comma; the push name may
        user, _, server = jid.partition("@")
        # neonize resumes with the device inside `User`: the string form is the store's key.
        devices.append(StoredDevice(jid=jid, proto=build_jid(user, server)))
    return devices
