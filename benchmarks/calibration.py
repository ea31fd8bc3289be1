"""Which int8 calibration keeps a model closest to its fp32 twin? Chosen on val only.

Quantizes the fp32 edgefer ONNX model once per calibration method, Training sample size,
sample seed and 7-bit weight range (the settings of `edgefer export --int8`); the table gives
val (PublicTest) accuracy, its drop against fp32, top-1 agreement with fp32, and the
agreement of this CPU's int8 kernels with exact arithmetic (the QDQ graph run unfused, in
float: below 100% where int16 sums saturate, on x86 CPUs without VNNI). The test split is
never read: pick here, then export with the winner and read test once. The output goes to
runs/ by default: benchmarks/calibration.md quotes the sweeps it draws on.
"""

from __future__ import annotations

import itertools
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort

from edgefer.bench import harness
from edgefer.data import FaceSet, load_faces
from edgefer.export.options import REDUCE_RANGES
from edgefer.export.quantize import calibration_set, quantize_int8
from edgefer.runtime import EmotionClassifier
from edgefer.runtime.backends import session_options


@dataclass
class CalibrationRow:
    """One calibration setting and what its int8 model scored on val."""

    method: str
    size: int
    seed: int
    reduce_range: str  # which weights keep to 7 bits: stem, all or none
    val_acc: float
    drop_points: float  # fp32 val accuracy minus int8's
    agreement: float  # top-1 agreement with fp32 on val
    exact: float  # top-1 agreement of this CPU's int8 kernels with exact int8 arithmetic


class CalibrationSweep:
    """An fp32 model's val predictions, against which each int8 calibration is scored."""

    def __init__(self, model: Path, val: FaceSet) -> None:
        self.model, self.labels = model, val.labels
        fp32 = EmotionClassifier(model)
        self.preprocess, self.x = fp32.preprocess, fp32.preprocess(val.images)
        self.ref = fp32.run_tensor(self.x).argmax(1)
        self.base = float((self.ref == self.labels).mean())

    def row(self, train: FaceSet, method: str, size: int, seed: int,
            reduce_range: str = "stem") -> CalibrationRow:
        """Quantize as `edgefer export --int8` does with these settings, and score on val."""
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "int8.onnx"
            quantize_int8(self.model, out, calibration_set(train, size, seed), self.preprocess,
                          method, "uint8", reduce_range, Path(tmp))
            pred, exact = (self.predict(out, fused) for fused in (True, False))
        acc = float((pred == self.labels).mean())
        return CalibrationRow(method, size, seed, reduce_range, acc, 100 * (self.base - acc),
                              float(np.mean(pred == self.ref)), float(np.mean(pred == exact)))

    def predict(self, model: Path, fused: bool) -> np.ndarray:
        """Val predictions of an int8 file: fused into this CPU's int8 kernels, or unfused,
        its Dequantize nodes feeding float ops (the same int8 values, no int16 saturation)."""
        opts = session_options(None)
        if not fused:
            opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        session = ort.InferenceSession(str(model), opts, providers=["CPUExecutionProvider"])
        return session.run(None, {session.get_inputs()[0].name: self.x})[0].argmax(1)


def main(argv: list[str] | None = None) -> None:
    ap = harness.parser(__doc__, __file__, "data", "out",
                        out=Path(__file__).resolve().parents[1] / "runs" / "calibration")
    ap.add_argument("model", type=Path, help="fp32 edgefer .onnx")
    ap.add_argument("--methods", default="minmax,entropy,percentile")
    ap.add_argument("--sizes", default="500,1000,2000", help="Training faces to calibrate on")
    ap.add_argument("--seeds", default="0", help="seeds of the calibration sample")
    ap.add_argument("--ranges", default="stem", help="7-bit weights: stem, all, none")
    args = ap.parse(argv)
    if not set(args.ranges.split(",")) <= set(REDUCE_RANGES):
        ap.error(f"--ranges takes {', '.join(REDUCE_RANGES)}, not {args.ranges}")
    try:
        sizes, seeds = ([int(n) for n in v.split(",")] for v in (args.sizes, args.seeds))
    except ValueError:
        ap.error(f"--sizes and --seeds take whole numbers: {args.sizes}, {args.seeds}")
    faces = load_faces(args.data)
    train, val = faces.split("train"), faces.split("val")
    sweep = CalibrationSweep(args.model, val)
    report = harness.Report.start(args.command)
    report.add(f"{args.model}: fp32 val accuracy {100 * sweep.base:.2f}% on {len(val)} "
               "PublicTest faces.")
    table = report.add(harness.Table({"method": "", "calib faces": "d", "seed": "d",
                                      "7-bit weights": "", "val acc": ".2%",
                                      "drop (points)": ".2f", "agreement with fp32": ".1%",
                                      "int8 kernels = exact": ".1%"}))
    for setting in itertools.product(args.methods.split(","), sizes, seeds,
                                     args.ranges.split(",")):
        r = sweep.row(train, *setting)
        print(table.add(r.method, r.size, r.seed, r.reduce_range, r.val_acc, r.drop_points,
                        r.agreement, r.exact), flush=True)
    harness.publish(report, args.out)


if __name__ == "__main__":
    harness.run(main)
