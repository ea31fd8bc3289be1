"""Interleaved single-face latency of several exported models (batch 1).

The models take turns in short blocks, so drift in the machine's speed hits them all alike
(`edgefer bench` times each model in its own process, one after another); the table gives
the median and 10th percentile in milliseconds of `run_tensor` on a ready tensor. With
--flip-tta each model is also timed from a 48x48 crop to probabilities (preprocessing
included), without and with flip TTA, which `edgefer bench` does not measure. Torch-free.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from edgefer.bench import harness
from edgefer.latency import interleaved_ms
from edgefer.runtime import EmotionClassifier


def jobs(models: list[str], threads: int, flip_tta: bool) -> dict[str, Callable[[], object]]:
    """What to time, by row name: each model on a ready tensor, and with `flip_tta` from a
    crop to probabilities without and with flip TTA."""
    face = [np.full((48, 48), 128, np.uint8)]
    out: dict[str, Callable[[], object]] = {}
    for m in models:
        clf = EmotionClassifier(m, threads=threads)
        x = clf.preprocess(face)
        out[m] = lambda clf=clf, x=x: clf.run_tensor(x)
        if flip_tta:
            tta = EmotionClassifier(m, threads=threads, flip_tta=True)
            out[f"{m}, crop to probs"] = lambda clf=clf: clf.predict_probs(face)
            out[f"{m}, crop to probs, flip TTA"] = lambda tta=tta: tta.predict_probs(face)
    return out


def main(argv: list[str] | None = None) -> None:
    ap = harness.parser(__doc__, __file__, "threads", "out", threads=1)
    ap.add_argument("models", nargs="+", help="exported models (.onnx) or shipped model names")
    ap.add_argument("--blocks", type=harness.positive, default=30, help="rounds of turns")
    ap.add_argument("--runs", type=harness.positive, default=40,
                    help="timed calls per model and round")
    ap.add_argument("--flip-tta", action="store_true", help="also time crop to probabilities")
    args = ap.parse(argv)
    times = interleaved_ms(jobs(args.models, args.threads, args.flip_tta), args.blocks,
                           args.runs)
    report = harness.Report.start(args.command)
    report.add(f"Milliseconds per face at {harness.threads_text(args.threads)}, batch 1: "
               f"{args.blocks} rounds of {args.runs} timed calls per model, the models taking "
               "turns.")
    table = report.add(harness.Table({"model": "", "p50 ms": ".3f", "p10 ms": ".3f"}))
    for name, t in times.items():
        table.add(name, float(np.median(t)), float(np.percentile(t, 10)))
    harness.publish(report, args.out)


if __name__ == "__main__":
    harness.run(main)
