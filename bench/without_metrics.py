"""`sendmako serve` without the per-request metrics: the baseline of bench_metrics.py.

Run as `python -m bench.without_metrics serve`. The very server `sendmako serve` starts,
with `metrics.observe_request` (called by RequestContext for every request) made a
function that does nothing, so the difference is what timing and counting a request costs.
"""

from __future__ import annotations

import os
import sys

from sendmako import cli, metrics


def _nothing(method: str, route: str, status: int, seconds: float) -> None:
    return None


if __name__ == "__main__":
    # BENCH_METRICS=on keeps them: the same module on both sides of the comparison.
    if os.environ.get("BENCH_METRICS") != "on":
        metrics.observe_request = _nothing
    raise SystemExit(cli.main(sys.argv[1:]))
