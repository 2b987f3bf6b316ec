"""Sendmako: a self-hosted WhatsApp HTTP API."""

__version__ = "0.1.0"
