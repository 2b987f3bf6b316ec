"""neonize is imported once here, quietly. Its import runs `uname -a` twice through
`os.popen` and never closes or waits for them: the pipes would raise ResourceWarnings
(errors in this suite) in whichever later test starts a subprocess and so reaps them."""

from __future__ import annotations

import gc
import subprocess
import time
import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", ResourceWarning)
    import neonize.client  # noqa: F401

    # Starting a subprocess reaps finished ones (subprocess._cleanup); repeat until
    # neonize's `uname` children are gone, while the warning is still ignored.
    for _ in range(100):
        subprocess.run(["true"], check=True)
        if not getattr(subprocess, "_active", None):
            break
        time.sleep(0.02)
    gc.collect()
