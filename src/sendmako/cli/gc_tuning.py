"""Garbage-collector settings for the long-running server.

CPython's older-generation collections walk every tracked object. A started server holds
a few hundred thousand of them that live until it stops (FastAPI's routes, SQLAlchemy's
mappers, pydantic's validators...), and under load a pass over them stalled every request
in flight for 100-150 ms about once a second (send-message, 50 clients: p99 155 ms with
CPython's defaults, 46 ms with these; bench/bench_send_message.py).

`gc.freeze()` moves what exists once the server has started out of the collector's sight,
and a higher first threshold makes young collections rarer: each one is cheap, their number
was the cost. Reference cycles are still collected, only less often.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 50_000
OLDER_THRESHOLDS = (20, 20)


def tune_for_serving() -> None:
    """Call once the server has started, before it takes requests."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *OLDER_THRESHOLDS)
