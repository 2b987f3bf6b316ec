"""The real WhatsApp engine: neonize (whatsmeow) in one supervised worker process per session.

Imports nothing on purpose: the worker process starts as `python -m
sendmako.engines.neonize.worker`, and this package's import must not pull the server's
modules into it. The server reaches `engine.NeonizeEngine` through the engine registry.
"""
