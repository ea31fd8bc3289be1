"""Interleaved single-face latency of several exported models (1 thread, batch 1).

Usage: python benchmarks/ab_latency.py MODEL.onnx [MODEL.onnx ...] [--blocks 30] [--runs 40]
                                        [--flip-tta]
The models take turns in short blocks, so machine drift hits them all alike; prints the
median and 10th percentile in milliseconds. With --flip-tta each model is also timed from a
48x48 crop to probabilities (preprocessing included), without and with flip TTA. Torch-free.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from edgefer.runtime import EmotionClassifier


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", type=Path, nargs="+")
    ap.add_argument("--blocks", type=int, default=30)
    ap.add_argument("--runs", type=int, default=40)
    ap.add_argument("--flip-tta", action="store_true")
    args = ap.parse_args()
    face = [np.full((48, 48), 128, np.uint8)]
    jobs: list[tuple[str, Callable[[], object]]] = []
    for m in args.models:
        clf = EmotionClassifier(m, threads=1)
        x = clf.preprocess(face)
        jobs.append((str(m), lambda clf=clf, x=x: clf.run_tensor(x)))
        if args.flip_tta:
            tta = EmotionClassifier(m, threads=1, flip_tta=True)
            jobs.append((f"{m}, crop to probs", lambda clf=clf: clf.predict_probs(face)))
            jobs.append((f"{m}, crop to probs, flip TTA", lambda tta=tta: tta.predict_probs(face)))
    times: list[list[float]] = [[] for _ in jobs]
    for _ in range(args.blocks):
        for (_, run), t in zip(jobs, times, strict=True):
            for _ in range(5):
                run()
            for _ in range(args.runs):
                start = time.perf_counter()
                run()
                t.append((time.perf_counter() - start) * 1000)
    print("| model | p50 ms | p10 ms |\n|---|---:|---:|")
    for (name, _), t in zip(jobs, times, strict=True):
        print(f"| {name} | {np.median(t):.3f} | {np.percentile(t, 10):.3f} |")


if __name__ == "__main__":
    main()
