"""Latency measurement: warm up, then time many runs and report percentiles."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass
class Latency:
    """Milliseconds per call: percentiles and mean of the kept block of timed runs."""

    p50: float
    p90: float
    p99: float
    mean: float
    runs: int
    blocks: int


def measure_latency(fn: Callable[[], object], runs: int = 500, warmup: int = 50,
                    blocks: int = 1) -> Latency:
    """p50/p90/p99 and mean of `fn()` in milliseconds over `runs` timed calls.

    With `blocks` > 1 the runs are timed in that many consecutive blocks and the block with
    the lowest median is reported: on a shared machine this discards the stretches where
    another tenant slowed everything down.
    """
    for _ in range(warmup):
        fn()
    per_block = max(1, runs // blocks)
    best = None
    for _ in range(blocks):
        times = np.empty(per_block)
        for i in range(per_block):
            start = time.perf_counter()
            fn()
            times[i] = (time.perf_counter() - start) * 1000
        if best is None or np.median(times) < np.median(best):
            best = times
    p50, p90, p99 = np.percentile(best, [50, 90, 99])
    return Latency(float(p50), float(p90), float(p99), float(best.mean()), per_block, blocks)


def interleaved_ms(jobs: dict[str, Callable[[], object]], blocks: int = 30, runs: int = 40,
                   warmup: int = 5) -> dict[str, np.ndarray]:
    """Milliseconds per call of each job, the jobs taking turns in `blocks` rounds of `runs`
    timed calls each (after `warmup` untimed ones), so drift in the machine's speed hits all
    of them alike."""
    times: dict[str, list[float]] = {name: [] for name in jobs}
    for _ in range(blocks):
        for name, fn in jobs.items():
            for _ in range(warmup):
                fn()
            for _ in range(runs):
                start = time.perf_counter()
                fn()
                times[name].append((time.perf_counter() - start) * 1000)
    return {name: np.array(t) for name, t in times.items()}
