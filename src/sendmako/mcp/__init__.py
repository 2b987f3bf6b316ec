"""`sendmako mcp`: WhatsApp for AI agents, as a Model Context Protocol server on stdio.

It speaks to a Sendmako server over HTTP with one API key (`sendmako.client`), so every
tool sees and acts on that key's user only, exactly as the API would let it."""
