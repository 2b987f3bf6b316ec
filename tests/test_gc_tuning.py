"""The server's collector settings (why: gc_tuning.py). Run in a child process: freezing
the test process's own objects would change every test after this one."""

from __future__ import annotations

import json
import subprocess
import sys

from sendmako.cli import gc_tuning

PROBE = """
import gc, json
from sendmako import app
from sendmako.cli import gc_tuning
before = gc.get_freeze_count()
gc_tuning.tune_for_serving()
print(json.dumps([before, gc.get_freeze_count(), gc.get_threshold()]))
"""


def test_what_exists_at_start_is_frozen_and_young_collections_are_rarer() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    before, after, threshold = json.loads(out)
    assert before == 0
    assert after > 10_000, "the imported application's objects are out of the collector's sight"
    assert threshold == [gc_tuning.YOUNG_THRESHOLD, *gc_tuning.OLDER_THRESHOLDS]
