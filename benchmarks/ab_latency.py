"""Interleaved single-face latency of several exported models (1 thread, batch 1).

Usage: python benchmarks/ab_latency.py MODEL.onnx [MODEL.onnx ...] [--blocks 30] [--runs 40]
The models take turns in short blocks, so machine drift hits them all alike; prints the
median and 10th percentile in milliseconds. Torch-free.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from edgefer.runtime import EmotionClassifier


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", type=Path, nargs="+")
    ap.add_argument("--blocks", type=int, default=30)
    ap.add_argument("--runs", type=int, default=40)
    args = ap.parse_args()
    clfs = [EmotionClassifier(m, threads=1) for m in args.models]
    x = [c.preprocess([np.full((48, 48), 128, np.uint8)]) for c in clfs]
    times: list[list[float]] = [[] for _ in clfs]
    for _ in range(args.blocks):
        for clf, xi, t in zip(clfs, x, times, strict=True):
            for _ in range(5):
                clf.run_tensor(xi)
            for _ in range(args.runs):
                start = time.perf_counter()
                clf.run_tensor(xi)
                t.append((time.perf_counter() - start) * 1000)
    print("| model | p50 ms | p10 ms |\n|---|---:|---:|")
    for path, t in zip(args.models, times, strict=True):
        print(f"| {path} | {np.median(t):.3f} | {np.percentile(t, 10):.3f} |")


if __name__ == "__main__":
    main()
