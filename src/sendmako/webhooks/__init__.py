"""Webhooks: the outbox, signing, retries and the dispatcher that delivers events."""
