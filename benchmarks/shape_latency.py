"""Which EdgeNet shapes fit a latency cap: int8 files of each shape timed against the `fer`
mini-Xception, one thread, batch 1, the models taking turns.

Each shape (`WIDTHS:DEPTHS[:STEM_STRIDE]`, e.g. 28-56-112-224:1-2-2-2, or
24-48-96-256:1-2-2-2:2 for `edge-v2`'s stride-2 stem) is built untrained, exported to fp32 ONNX
and quantized as `edgefer export --int8` does (its default options, calibrated on 200 Training
faces): an int8 kernel's speed does not depend on the weights' values, so a shape's latency is
known before any training. The shipped `edge` int8 file is timed beside them, a check that a
trained file of the same shape runs as fast. Needs torch (the train extra) and the peer models
(--peers or $EDGEFER_PEERS)."""

from __future__ import annotations

import copy
import os
import tempfile
from pathlib import Path

import numpy as np
from torch import nn

from edgefer.bench import harness
from edgefer.bench.runners import peer_candidates
from edgefer.data import load_faces
from edgefer.data.locate import resolve_data
from edgefer.errors import BadArgumentError, EdgeferError
from edgefer.export.options import ExportOptions
from edgefer.export.quantize import calibration_set, quantize_int8
from edgefer.export.to_onnx import export_fp32
from edgefer.latency import interleaved_ms
from edgefer.models import count_macs, count_params
from edgefer.models.edge import EdgeNet
from edgefer.preprocess import Preprocess
from edgefer.runtime.assets import ASSETS
from edgefer.runtime.backends import open_session

SHAPES = ["24-48-96-192:1-2-2-2", "32-48-96-192:1-2-2-2", "24-48-96-224:1-2-2-2",
          "24-48-96-240:1-2-2-2", "24-48-96-256:1-2-2-2", "24-48-112-192:1-2-2-2",
          "24-48-128-192:1-2-2-2", "24-48-96-192:1-2-2-3", "16-48-96-256:1-2-2-2",
          "16-32-96-256:1-2-2-2", "26-52-104-208:1-2-2-2",
          "28-56-112-224:1-2-2-2", "32-64-128-256:1-2-2-2", "24-48-96-192:1-2-2-2:2",
          "24-48-96-256:1-2-2-2:2", "24-48-96-192:1-2-2-3:2", "32-56-112-224:1-2-2-2:2"]
REFERENCE = "fer mini-Xception"


def parse_shape(text: str) -> EdgeNet:
    """`24-48-96-192:1-2-2-2` -> EdgeNet(((24, 1), (48, 2), (96, 2), (192, 2))); a third
    field, 2, strides the stem."""
    try:
        fields = [[int(v) for v in part.split("-")] for part in text.split(":")]
    except ValueError:
        fields = []
    if len(fields) not in (2, 3) or fields[2:] not in ([], [[1]], [[2]]):
        raise BadArgumentError(f"shape {text!r}: write WIDTHS:DEPTHS[:STEM_STRIDE], e.g. "
                               "24-48-96-192:1-2-2-2 or 24-48-96-256:1-2-2-2:2")
    widths, depths = fields[:2]
    if len(widths) != len(depths) or min(widths + depths) < 1:
        raise BadArgumentError(f"shape {text!r}: one positive depth per positive width")
    stride = fields[2][0] if len(fields) == 3 else 1
    return EdgeNet(tuple(zip(widths, depths, strict=True)), stem_stride=stride)


def int8_file(net: EdgeNet, calib, work: Path) -> Path:
    """An untrained EdgeNet as an int8 QDQ file, quantized as export does (`net` is left as
    it was: export folds the BatchNorms in place)."""
    net = copy.deepcopy(net)
    for bn in (m for m in net.modules() if isinstance(m, nn.BatchNorm2d)):
        nn.init.normal_(bn.bias, std=0.1)  # folded biases, as a trained file has (not zero)
    spec = Preprocess()
    fp32, out = work / "fp32.onnx", work / "int8.onnx"
    export_fp32(net, spec, fp32)
    opts = ExportOptions(int8=True)  # export's defaults
    quantize_int8(fp32, out, calib, spec, opts.calib_method, opts.activations,
                  opts.reduce_range, work)
    return out


def timer(path: Path, threads: int):
    """One call of the file on a ready input of its own shape."""
    session = open_session(path, "ort-cpu", threads)
    feed = session.get_inputs()[0]
    x = np.random.default_rng(0).random(
        [d if isinstance(d, int) else 1 for d in feed.shape], dtype=np.float32)
    return lambda: session.run(None, {feed.name: x})


def main(argv: list[str] | None = None) -> None:
    ap = harness.parser(__doc__, __file__, "data", "threads", "out", threads=1)
    ap.add_argument("shapes", nargs="*", default=SHAPES, help="WIDTHS:DEPTHS per shape")
    ap.add_argument("--peers", type=Path, default=os.environ.get("EDGEFER_PEERS"),
                    help="directory holding the peer models (default: $EDGEFER_PEERS)")
    ap.add_argument("--blocks", type=harness.positive, default=30, help="rounds of turns")
    ap.add_argument("--runs", type=harness.positive, default=40,
                    help="timed calls per model and round")
    args = ap.parse(argv)
    nets = {s: parse_shape(s) for s in args.shapes}
    peers = {c.name: c.path for c in peer_candidates(Path(args.peers))} if args.peers else {}
    if REFERENCE not in peers:
        raise EdgeferError(f"the {REFERENCE} is needed as the reference: pass --peers DIR "
                           "or set EDGEFER_PEERS")
    calib = calibration_set(load_faces(resolve_data(args.data)).split("train"), 200, seed=0)
    jobs = {REFERENCE: timer(peers[REFERENCE], args.threads),
            "edge int8, shipped": timer(ASSETS / "edge.int8.onnx", args.threads)}
    with tempfile.TemporaryDirectory() as tmp:
        for name, net in nets.items():
            work = Path(tmp) / name.replace(":", "_")
            work.mkdir()
            jobs[name] = timer(int8_file(net, calib, work), args.threads)
        times = interleaved_ms(jobs, args.blocks, args.runs)
    base = float(np.median(times[REFERENCE]))
    report = harness.Report.start(args.command, torch=True)
    report.add(f"Milliseconds per face at {harness.threads_text(args.threads)}, batch 1, "
               f"onnxruntime, int8 files (the {REFERENCE} in fp32, as `edgefer bench` runs "
               f"it): {args.blocks} rounds of {args.runs} timed calls per model, the models "
               "taking turns. Shapes are EdgeNet widths:depths per stage (:2: a stride-2 stem, no "
               "pool after it), untrained; MACs for one 48x48 face.")
    table = report.add(harness.Table({"model": "", "MACs": ",", "params": ",", "p50 ms": ".3f",
                                      f"x {REFERENCE}": ".2f"}))
    for name, t in times.items():
        net = nets.get(name)
        p50 = float(np.median(t))
        table.add(name, net and count_macs(net), net and count_params(net), p50, p50 / base)
    harness.publish(report, args.out)


if __name__ == "__main__":
    harness.run(main)
