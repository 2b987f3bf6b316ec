"""Media: WhatsApp's encryption (`crypto`), guarded downloads (`guard`, `fetch`), content types
from the bytes (`sniff`) and the verified decryption service behind `/api/decrypt-media`
(`decrypt`)."""
