"""Phone numbers and JIDs: one parser, many spellings."""

from __future__ import annotations

import pytest

from sendmako import ids
from sendmako.ids import InvalidIdentifier, Jid, is_session_id, normalize_phone, recipient_jid


@pytest.mark.parametrize(
    "spelling", ["+222 41 85 79 75", "0022241857975", "22241857975", "+222-41-85-79-75"]
)
def test_spellings_of_one_number_agree(spelling: str) -> None:
    assert normalize_phone(spelling) == "22241857975"


@pytest.mark.parametrize("impossible", ["123", "99912345678", "+222 41", "twelve", "", "+"])
def test_impossible_numbers_are_refused(impossible: str) -> None:
    with pytest.raises(InvalidIdentifier):
        normalize_phone(impossible)


def test_jids_parse_and_print() -> None:
    device = Jid.parse("5511999990001:12@s.whatsapp.net")
    assert (device.user, device.device, str(device.without_device())) == (
        "5511999990001",
        12,
        "5511999990001@s.whatsapp.net",
    )
    assert Jid.parse("120363025246125244@g.us").is_group
    assert Jid.parse("123456789012345@lid").is_lid
    with pytest.raises(InvalidIdentifier):
        Jid.parse("someone@example.com")


def test_recipients_accept_numbers_and_jids() -> None:
    assert str(recipient_jid("+222 41 85 79 75")) == "22241857975@s.whatsapp.net"
    assert str(recipient_jid("22241857975@s.whatsapp.net")) == "22241857975@s.whatsapp.net"
    assert str(recipient_jid("120363025246125244@g.us")) == "120363025246125244@g.us"


def test_session_id_shape() -> None:
    assert is_session_id("user_1")
    assert is_session_id("user_1_2")
    assert not is_session_id("user_")
    assert not is_session_id("admin")


def test_a_padded_number_is_refused_before_it_is_parsed_or_cached() -> None:
    """A number padded with a megabyte of spaces costs nothing to refuse and is never kept
    (it used to be valid, and cached whole: 15 requests held 372 MB until a restart)."""
    before = ids._e164.cache_info().currsize
    padded = "+221" + " " * (1 << 20) + "781234567"
    with pytest.raises(InvalidIdentifier, match="at most 64 characters"):
        normalize_phone(padded)
    with pytest.raises(InvalidIdentifier, match="at most 128 characters"):
        recipient_jid("221781234567" + " " * (1 << 20) + "@s.whatsapp.net")
    assert ids._e164.cache_info().currsize == before


def test_spellings_of_one_number_share_one_cache_entry() -> None:
    """The cache is keyed by the compact number, not by how it was spelled."""
    ids._e164.cache_clear()
    for spelling in ("+221 78 123 45 67", "00221781234567", "(221) 78-123-4567", "221781234567"):
        assert normalize_phone(spelling) == "221781234567"
    assert ids._e164.cache_info().currsize == 1
