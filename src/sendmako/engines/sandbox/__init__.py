"""The sandbox: a simulated WhatsApp network, like a payment provider's test mode.

Product code, not a test mock: it runs the quick start without a phone, the demo, and most
tests. Sandbox sessions link by a "scan" call, and their state lives in the database.
"""

from sendmako.engines.sandbox.engine import SandboxEngine, SandboxSession

__all__ = ["SandboxEngine", "SandboxSession"]
