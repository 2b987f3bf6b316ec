"""WhatsApp media crypto: the reference vectors both ways, and every way a file can be wrong."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from sendmako.errors import BadRequest, OperationFailed
from sendmako.media.crypto import (
    MAC_LENGTH,
    Check,
    EncryptedFileCheck,
    MediaEncryptor,
    MediaType,
    PlaintextReader,
    candidate_types,
    decrypt,
    derive_keys,
    encrypt,
    encrypt_stream,
    encrypted_size,
    failed_check,
)
from tests.media.files import jpeg_bytes

VECTORS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "media-vectors.json").read_text()
)["vectors"]
VECTOR_IDS = [f"{v['mediaType']}-{v['fileLength']}" for v in VECTORS]


def failure(excinfo: pytest.ExceptionInfo[OperationFailed]) -> Check | None:
    return failed_check(excinfo.value)


@pytest.mark.parametrize("vector", VECTORS, ids=VECTOR_IDS)
def test_key_expansion_matches_the_vector(vector: dict[str, Any]) -> None:
    """HKDF of the mediaKey gives the vector's iv, cipherKey, macKey and refKey."""
    keys = derive_keys(bytes.fromhex(vector["mediaKeyHex"]), MediaType(vector["mediaType"]))
    assert keys.iv.hex() == vector["ivHex"]
    assert keys.cipher_key.hex() == vector["cipherKeyHex"]
    assert keys.mac_key.hex() == vector["macKeyHex"]
    assert keys.ref_key.hex() == vector["refKeyHex"]


@pytest.mark.parametrize("vector", VECTORS, ids=VECTOR_IDS)
def test_encryption_reproduces_the_vector(vector: dict[str, Any]) -> None:
    """Encrypting the vector's plaintext with its key gives its file, digests and length."""
    media_key = base64.b64decode(vector["mediaKeyB64"])
    result = encrypt(
        bytes.fromhex(vector["plaintextHex"]), MediaType(vector["mediaType"]), media_key
    )
    assert result.file.hex() == vector["encHex"]
    assert result.file[-MAC_LENGTH:].hex() == vector["macHex"]
    assert base64.b64encode(result.file_sha256).decode() == vector["fileSha256B64"]
    assert base64.b64encode(result.file_enc_sha256).decode() == vector["fileEncSha256B64"]
    assert result.file_length == vector["fileLength"]
    assert result.media_key == media_key


@pytest.mark.parametrize("vector", VECTORS, ids=VECTOR_IDS)
def test_decryption_recovers_the_vector(vector: dict[str, Any]) -> None:
    """The vector's file decrypts, with every optional check on, to its plaintext."""
    plaintext = decrypt(
        bytes.fromhex(vector["encHex"]),
        base64.b64decode(vector["mediaKeyB64"]),
        MediaType(vector["mediaType"]),
        file_enc_sha256=base64.b64decode(vector["fileEncSha256B64"]),
        file_sha256=base64.b64decode(vector["fileSha256B64"]),
        file_length=vector["fileLength"],
    )
    assert plaintext.hex() == vector["plaintextHex"]


@pytest.mark.parametrize("vector", VECTORS, ids=VECTOR_IDS)
def test_streaming_decryption_in_odd_pieces_recovers_the_vector(vector: dict[str, Any]) -> None:
    """Fed 1 to 7 bytes at a time, the check agrees; decrypted 16 bytes a block, same text."""
    file = bytes.fromhex(vector["encHex"])
    keys = derive_keys(bytes.fromhex(vector["mediaKeyHex"]), MediaType(vector["mediaType"]))
    check = EncryptedFileCheck(keys)
    offset, step = 0, 1
    while offset < len(file):
        check.update(file[offset : offset + step])
        offset += step
        step = step % 7 + 1
    check.check_length(vector["fileLength"])
    check.check_file_enc_sha256(base64.b64decode(vector["fileEncSha256B64"]))
    assert check.mac_matches()
    reader = PlaintextReader(io.BytesIO(file), len(file), keys, block_size=16)
    assert reader.length == vector["fileLength"]
    assert b"".join(iter(reader.read, b"")).hex() == vector["plaintextHex"]


def test_streaming_encryption_equals_one_shot() -> None:
    """MediaEncryptor fed uneven pieces and encrypt_stream produce encrypt()'s file."""
    plaintext = bytes(range(256)) * 40 + b"tail"
    key = bytes(range(32))
    whole = encrypt(plaintext, MediaType.VIDEO, key)
    encryptor = MediaEncryptor(MediaType.VIDEO, key)
    pieces = [encryptor.update(plaintext[i : i + 1000]) for i in range(0, len(plaintext), 1000)]
    assert b"".join(pieces) + encryptor.finalize() == whole.file
    target = io.BytesIO()
    digests = encrypt_stream(io.BytesIO(plaintext), target, MediaType.VIDEO, key)
    assert target.getvalue() == whole.file
    assert digests.file_enc_sha256 == whole.file_enc_sha256 == hashlib.sha256(whole.file).digest()
    assert digests.file_sha256 == whole.file_sha256 == hashlib.sha256(plaintext).digest()


def test_a_fresh_random_key_each_time() -> None:
    """Without a mediaKey, each encryption draws a new 32-byte one."""
    first, second = encrypt(b"x", MediaType.IMAGE), encrypt(b"x", MediaType.IMAGE)
    assert len(first.media_key) == 32
    assert first.media_key != second.media_key


def test_tampered_ciphertext_fails_the_mac() -> None:
    """One flipped ciphertext bit, with a fileEncSha256 matching the tampered file: MAC."""
    media = encrypt(b"a photo" * 100, MediaType.IMAGE)
    tampered = bytearray(media.file)
    tampered[40] ^= 0x01
    with pytest.raises(OperationFailed) as excinfo:
        decrypt(
            bytes(tampered),
            media.media_key,
            MediaType.IMAGE,
            file_enc_sha256=hashlib.sha256(tampered).digest(),
        )
    assert failure(excinfo) is Check.MAC
    assert excinfo.value.message.startswith("MAC check failed")


def test_tampered_ciphertext_fails_the_file_hash_first() -> None:
    """The same tampering against the original fileEncSha256 is caught by the hash check."""
    media = encrypt(b"a photo" * 100, MediaType.IMAGE)
    tampered = bytearray(media.file)
    tampered[40] ^= 0x01
    with pytest.raises(OperationFailed) as excinfo:
        decrypt(
            bytes(tampered), media.media_key, MediaType.IMAGE, file_enc_sha256=media.file_enc_sha256
        )
    assert failure(excinfo) is Check.FILE_ENC_SHA256


def test_tampered_mac_fails() -> None:
    """A changed MAC byte is refused, whatever the rest."""
    media = encrypt(b"voice" * 50, MediaType.AUDIO)
    tampered = media.file[:-1] + bytes([media.file[-1] ^ 0x80])
    with pytest.raises(OperationFailed) as excinfo:
        decrypt(tampered, media.media_key, MediaType.AUDIO)
    assert failure(excinfo) is Check.MAC


def naive_decrypt(file: bytes, media_key: bytes, media_type: MediaType) -> bytes:
    """What an implementation that skips the MAC would return."""
    keys = derive_keys(media_key, media_type)
    decryptor = Cipher(algorithms.AES(keys.cipher_key), modes.CBC(keys.iv)).decryptor()
    padded = decryptor.update(file[:-MAC_LENGTH]) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return unpadder.update(padded) + unpadder.finalize()


def test_a_wrong_key_that_unpads_cleanly_still_fails_the_mac() -> None:
    """A wrong key whose garbage ends in valid padding is refused by the MAC, not returned."""
    media = encrypt(b"confidential document body", MediaType.DOCUMENT)
    for counter in range(20_000):
        wrong = hashlib.sha256(counter.to_bytes(4, "big")).digest()
        try:
            garbage = naive_decrypt(media.file, wrong, MediaType.DOCUMENT)
        except ValueError:
            continue
        break
    else:
        pytest.fail("no wrong key with valid padding found")
    assert garbage != b"confidential document body"  # the trap a MAC-less decryptor falls in
    with pytest.raises(OperationFailed) as excinfo:
        decrypt(media.file, wrong, MediaType.DOCUMENT, file_enc_sha256=media.file_enc_sha256)
    assert failure(excinfo) is Check.MAC


def test_wrong_file_enc_sha256_fails() -> None:
    """An intact file with a different fileEncSha256 is refused."""
    media = encrypt(b"clip", MediaType.VIDEO)
    with pytest.raises(OperationFailed) as excinfo:
        decrypt(media.file, media.media_key, MediaType.VIDEO, file_enc_sha256=bytes(32))
    assert failure(excinfo) is Check.FILE_ENC_SHA256
    assert excinfo.value.message.startswith("fileEncSha256 check failed")


@pytest.mark.parametrize("cut", [1, 10, 16, 26])
def test_truncated_file_fails(cut: int) -> None:
    """A file cut short fails: by its shape, else by its MAC (whole blocks removed)."""
    media = encrypt(bytes(100), MediaType.IMAGE)
    with pytest.raises(OperationFailed) as excinfo:
        decrypt(media.file[:-cut], media.media_key, MediaType.IMAGE)
    assert failure(excinfo) in {Check.LENGTH, Check.MAC}
    with pytest.raises(OperationFailed) as excinfo:
        decrypt(media.file[:-cut], media.media_key, MediaType.IMAGE, file_length=100)
    assert failure(excinfo) is Check.LENGTH


def test_empty_file_fails_the_length_check() -> None:
    """Zero downloaded bytes is not an encrypted file."""
    with pytest.raises(OperationFailed) as excinfo:
        decrypt(b"", bytes(32), MediaType.IMAGE)
    assert failure(excinfo) is Check.LENGTH
    assert "0 bytes" in excinfo.value.message


def test_empty_plaintext_round_trips() -> None:
    """An empty file encrypts to one padding block and its MAC, and back."""
    media = encrypt(b"", MediaType.DOCUMENT)
    assert len(media.file) == 16 + MAC_LENGTH == encrypted_size(0)
    assert decrypt(media.file, media.media_key, MediaType.DOCUMENT, file_length=0) == b""


@pytest.mark.parametrize("length", [16, 32, 4096])
def test_block_aligned_plaintext_gets_a_whole_padding_block(length: int) -> None:
    """A 16-byte-aligned plaintext gains a full block of padding and comes back intact."""
    plaintext = bytes(range(256)) * (length // 256) + bytes(range(length % 256))
    media = encrypt(plaintext, MediaType.VIDEO)
    assert len(media.file) == length + 16 + MAC_LENGTH == encrypted_size(length)
    assert decrypt(media.file, media.media_key, MediaType.VIDEO, file_length=length) == plaintext


def test_document_keyed_jpeg_decrypts_with_its_media_type() -> None:
    """A photo sent as a document: mediaType document gives the exact JPEG back."""
    photo = jpeg_bytes()
    media = encrypt(photo, MediaType.DOCUMENT)
    assert decrypt(media.file, media.media_key, MediaType.DOCUMENT) == photo


def test_document_keyed_jpeg_decrypts_from_its_mimetype_by_fallback() -> None:
    """Without mediaType, image/jpeg guesses image keys; the MAC then picks document keys."""
    photo = jpeg_bytes()
    media = encrypt(photo, MediaType.DOCUMENT)
    candidates = candidate_types(None, "image/jpeg")
    assert candidates[0] is MediaType.IMAGE
    assert decrypt(media.file, media.media_key, candidates) == photo


def test_a_wrong_media_type_given_is_not_second_guessed() -> None:
    """mediaType image on a document-keyed file is a MAC failure, not a silent fallback."""
    media = encrypt(jpeg_bytes(), MediaType.DOCUMENT)
    with pytest.raises(OperationFailed) as excinfo:
        decrypt(media.file, media.media_key, candidate_types(MediaType.IMAGE, "image/jpeg"))
    assert failure(excinfo) is Check.MAC


def test_no_family_matching_names_every_family_tried() -> None:
    """When no key family's MAC matches, the error lists those tried."""
    media = encrypt(b"x" * 33, MediaType.DOCUMENT)
    with pytest.raises(OperationFailed) as excinfo:
        decrypt(media.file, bytes(32), candidate_types(None, "video/mp4"))
    assert failure(excinfo) is Check.MAC
    assert "video, image, audio, document keys" in excinfo.value.message


def test_sticker_uses_image_keys() -> None:
    """A sticker is encrypted with the image family."""
    media = encrypt(b"RIFF....WEBP", MediaType.STICKER)
    assert decrypt(media.file, media.media_key, MediaType.IMAGE) == b"RIFF....WEBP"
    assert candidate_types(None, "image/webp") == (
        MediaType.IMAGE,
        MediaType.VIDEO,
        MediaType.AUDIO,
        MediaType.DOCUMENT,
    )


def test_valid_mac_over_bad_padding_fails_the_padding_check() -> None:
    """A correctly MACed file whose plaintext padding is invalid is refused, not trimmed."""
    key = bytes(range(32))
    keys = derive_keys(key, MediaType.IMAGE)
    encryptor = Cipher(algorithms.AES(keys.cipher_key), modes.CBC(keys.iv)).encryptor()
    ciphertext = encryptor.update(bytes(31) + b"\x00") + encryptor.finalize()  # pad byte 0
    mac = hmac.new(keys.mac_key, keys.iv + ciphertext, hashlib.sha256).digest()
    with pytest.raises(OperationFailed) as excinfo:
        decrypt(ciphertext + mac[:MAC_LENGTH], key, MediaType.IMAGE)
    assert failure(excinfo) is Check.PADDING


def test_wrong_file_sha256_fails() -> None:
    """A given fileSha256 that the plaintext does not have is refused."""
    media = encrypt(b"hello", MediaType.DOCUMENT)
    with pytest.raises(OperationFailed) as excinfo:
        decrypt(media.file, media.media_key, MediaType.DOCUMENT, file_sha256=bytes(32))
    assert failure(excinfo) is Check.FILE_SHA256


def test_wrong_file_length_fails() -> None:
    """A fileLength in the same block count but not the real length is refused."""
    media = encrypt(b"hello", MediaType.DOCUMENT)
    with pytest.raises(OperationFailed) as excinfo:
        decrypt(media.file, media.media_key, MediaType.DOCUMENT, file_length=6)
    assert failure(excinfo) is Check.LENGTH
    assert "fileLength says 6" in excinfo.value.message


def test_media_key_must_be_32_bytes() -> None:
    """A short mediaKey is a 400 naming mediaKey."""
    with pytest.raises(BadRequest) as excinfo:
        derive_keys(bytes(31), MediaType.IMAGE)
    assert excinfo.value.field == "mediaKey"


def test_keys_never_appear_in_a_repr() -> None:
    """Keys and digests print as their type and size only (they may end up in a log)."""
    media = encrypt(b"secret", MediaType.IMAGE)
    keys = derive_keys(media.media_key, MediaType.IMAGE)
    for value in (media, keys):
        text = repr(value)
        assert media.media_key.hex() not in text
        assert keys.cipher_key.hex() not in text
        assert "image" in text
