"""Media: WhatsApp's encryption (`crypto`); downloads on a user's behalf (`fetch`), through
the private-address guard (`addresses` says what is allowed, `guard` applies it to every
connection) and, for decrypt-media, the media-host list (`hosts`); content types from the
bytes (`sniff`); base64 as clients send it (`b64`); the verified decryption service behind
`/api/decrypt-media` (`decrypt`); what we send: files made ready for WhatsApp (`outgoing`)
and voice notes (`audio`)."""
