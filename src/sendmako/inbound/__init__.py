"""What comes in from WhatsApp, kind by kind: how each is kept, the webhook it raises, and
what that webhook says (`registry.py`)."""
