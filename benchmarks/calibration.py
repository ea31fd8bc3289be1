"""Which int8 calibration keeps a model closest to its fp32 twin? Chosen on val only.

Usage: python benchmarks/calibration.py MODEL.onnx [--data PATH] [--seeds 0]
           [--methods minmax,entropy,percentile] [--sizes 500,1000,2000]
Quantizes the fp32 edgefer ONNX model once per calibration method, Training sample size and
sample seed (the settings of `edgefer export --int8`), and prints a markdown table of val
(PublicTest) accuracy, its drop against fp32 and top-1 agreement with fp32. The test split is
never read: pick here, then export with the winner and read test once.
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from edgefer.data import FaceSet, load_faces, resolve_data
from edgefer.export.metadata import write_with_metadata
from edgefer.export.quantize import calibration_set, quantize_int8
from edgefer.machine import machine_info
from edgefer.runtime import EmotionClassifier


@dataclass
class CalibrationRow:
    """One calibration setting and what its int8 model scored on val."""

    method: str
    size: int
    seed: int
    val_acc: float
    drop_points: float  # fp32 val accuracy minus int8's
    agreement: float  # top-1 agreement with fp32 on val


def sweep(model: Path, train: FaceSet, val: FaceSet, methods: list[str], sizes: list[int],
          seeds: list[int]) -> tuple[float, Iterator[CalibrationRow]]:
    """fp32 val accuracy, and one row per setting (quantized as it is asked for)."""
    fp32 = EmotionClassifier(model)
    x = fp32.preprocess(val.images)
    ref = fp32.run_tensor(x).argmax(1)
    base = float((ref == val.labels).mean())
    meta = replace(fp32.meta, precision="int8", metrics={})

    def rows() -> Iterator[CalibrationRow]:
        with tempfile.TemporaryDirectory() as tmp:
            work, raw, out = Path(tmp), Path(tmp) / "raw.onnx", Path(tmp) / "int8.onnx"
            for method, size, seed in itertools.product(methods, sizes, seeds):
                quantize_int8(model, raw, calibration_set(train, size, seed), fp32.preprocess,
                              method, "uint8", True, work)
                write_with_metadata(raw, meta, out)
                pred = EmotionClassifier(out).run_tensor(x).argmax(1)
                acc = float((pred == val.labels).mean())
                yield CalibrationRow(method, size, seed, acc, 100 * (base - acc),
                                     float(np.mean(pred == ref)))

    return base, rows()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", type=Path, help="fp32 edgefer .onnx")
    ap.add_argument("--data", default=None)
    ap.add_argument("--methods", default="minmax,entropy,percentile")
    ap.add_argument("--sizes", default="500,1000,2000")
    ap.add_argument("--seeds", default="0")
    args = ap.parse_args()
    faces = load_faces(resolve_data(args.data))
    val = faces.split("val")
    base, rows = sweep(args.model, faces.split("train"), val, args.methods.split(","),
                       [int(n) for n in args.sizes.split(",")],
                       [int(n) for n in args.seeds.split(",")])
    print(f"{args.model}: fp32 val accuracy {100 * base:.2f}% on {len(val)} PublicTest faces; "
          f"{machine_info()['cpu']}\n")
    print("| method | calib faces | seed | val acc | drop (points) | agreement with fp32 |\n"
          "|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r.method} | {r.size} | {r.seed} | {100 * r.val_acc:.2f}% | "
              f"{r.drop_points:.2f} | {100 * r.agreement:.1f}% |", flush=True)


if __name__ == "__main__":
    main()
