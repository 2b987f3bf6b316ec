"""WhatsApp engines: one interface (`base.py`), named implementations beside it."""
