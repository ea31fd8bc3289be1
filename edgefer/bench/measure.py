"""Measure one candidate in a fresh process: load time, accuracy, latency, peak memory."""

from __future__ import annotations

import gc
import resource
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from edgefer.bench.records import CandidateResult, LatencyEntry
from edgefer.bench.runners import Candidate, open_runner
from edgefer.data import load_faces
from edgefer.latency import measure_latency
from edgefer.runtime.backends import model_files
from edgefer.runtime.formats import is_model_file


def peak_rss_mb() -> float:
    """This process's peak resident memory so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    """This process's resident memory now."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return peak_rss_mb()


def measure_candidate(c: Candidate, data: Path, limit: int | None, threads: list[int],
                      batches: list[int], runs: int, detector: Path | None) -> CandidateResult:
    """All figures of one candidate; runs in a child process so memory is its own."""
    faces = load_faces(data)
    test = faces.split("test")
    unseen = ~test.seen_in(faces.split("train"))
    if limit:
        keep = np.sort(np.random.default_rng(0).choice(len(test), limit, replace=False))
        test, unseen = test.select(keep), unseen[keep]
    del faces
    gc.collect()
    base_rss = rss_mb()
    start = time.perf_counter()
    runner = open_runner(c, threads[0], detector)
    load_ms = (time.perf_counter() - start) * 1000
    x = runner.prepare(test.images)
    for _ in range(10):
        runner.run(x[:1])
    model_mb = rss_mb() - base_rss - x.nbytes / 2**20  # loaded and answering single faces
    step = runner.fixed_batch or 256
    probs = np.concatenate([runner.run(x[i:i + step]) for i in range(0, len(x), step)])
    hits = probs.argmax(1) == test.labels
    latency = []
    for t in threads:
        # a fresh session: one that just ran the batch-256 accuracy pass times single faces
        # slower (measured 0.55 against 0.33 ms for the int8 model)
        r = open_runner(c, t, detector)
        for b in batches:
            if r.fixed_batch is not None and b > r.fixed_batch:
                continue
            lat = measure_latency(lambda r=r, xb=x[:b]: r.run(xb), runs=runs,
                                  warmup=max(5, runs // 10), blocks=5)
            latency.append(LatencyEntry(**asdict(lat), threads=t, batch=b,
                                        faces_per_s=b * 1000 / lat.p50))
    files = model_files(c.path) if is_model_file(c.path) else [c.path]  # checkpoint
    return CandidateResult(c.name, c.backend, c.precision, c.kind, str(c.path),
                           sum(f.stat().st_size for f in files), load_ms, len(test),
                           float(hits.mean()), float(hits[unseen].mean()), model_mb, rss_mb(),
                           peak_rss_mb(), latency)
