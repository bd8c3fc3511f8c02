"""How the benchmarks time one run of the code they measure."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable


def timed(fn: Callable[[], object]) -> float:
    """CPU seconds of this process: steadier than wall time on a machine others share.

    The garbage collector is off while timing, as timeit does: otherwise each run pays
    for traversing whatever else the process holds (the 100,000 parsed queries kept for
    the next step, say), which says nothing about the code being timed.
    """
    gc.collect()
    gc.disable()
    try:
        start = time.process_time()
        fn()
        return time.process_time() - start
    finally:
        gc.enable()
