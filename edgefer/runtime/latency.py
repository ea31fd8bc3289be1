"""Latency measurement: warm up, then time many runs and report percentiles."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np


def measure_latency(fn: Callable[[], object], runs: int = 500, warmup: int = 50) -> dict:
    """p50/p90/p99 and mean of `fn()` in milliseconds over `runs` timed calls."""
    for _ in range(warmup):
        fn()
    times = np.empty(runs)
    for i in range(runs):
        start = time.perf_counter()
        fn()
        times[i] = (time.perf_counter() - start) * 1000
    p50, p90, p99 = np.percentile(times, [50, 90, 99])
    return {"p50": float(p50), "p90": float(p90), "p99": float(p99), "mean": float(times.mean()),
            "runs": runs}
