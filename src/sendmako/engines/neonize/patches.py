"""Fixes to neonize 0.5.2 itself, applied once in the worker process (the only one that
imports neonize) before its client is built.

- `decrypt_poll_vote` never works in 0.5.2: `DecryptPollVote` is missing from the list of
  FFI functions given `consume_bytes_struct` as their ctypes `errcheck`, so Python gets a
  raw `LP_Bytes` pointer and fails (`TypeError: expected bytes, LP_Bytes found`). Giving it
  the same `errcheck` as its siblings makes it answer bytes, and frees Go's buffer, like
  them (`neonize-wave2.md` 0.3).
"""

from __future__ import annotations

from neonize import _binder


def apply() -> None:
    """Install every fix; idempotent."""
    _binder.gocode.DecryptPollVote.errcheck = _binder.consume_bytes_struct


def applied() -> bool:
    return _binder.gocode.DecryptPollVote.errcheck is _binder.consume_bytes_struct
