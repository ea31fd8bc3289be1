"""Face detector engines: YuNet through OpenCV, onnxruntime, and onnxruntime int8.

Per-frame detection time (a `FaceDetector` call: resize, detect, decode, NMS; median ms, the
engines interleaved so a noisy neighbour slows all alike) on a 640x480 frame of one FER2013
test face and its 320x240 copy, at 1 and 2 threads; and face recall on the recall benchmark
(`edgefer.bench.recall`) per engine. The int8 YuNet is quantized here: static QDQ, per-channel
weights in 7 bits (reduce_range, for AVX2 CPUs without VNNI), calibrated on the recall
benchmark's backgrounds with FER2013 *Training* faces pasted, scaled to --calib-sizes. Needs
onnx (the train extra) for the int8 rows.
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import onnx
from onnx import version_converter
from onnxruntime.quantization import (
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    quantize_static,
)

from edgefer.bench import harness
from edgefer.bench.composite import composite_frame
from edgefer.bench.recall import (
    FACE_SIZES,
    Scene,
    make_scenes,
    measure_recall,
    pooled_recall,
)
from edgefer.data import FaceSet, load_faces
from edgefer.runtime import EmotionClassifier
from edgefer.runtime.face_detector import FaceDetector, rescale
from edgefer.runtime.pipeline import EmotionPipeline
from edgefer.runtime.yunet import free_sizes, input_blob

ENGINES = ("opencv", "ort", "ort-int8")
CASES = (((320, 240), 320), ((640, 480), 320), ((640, 480), 640))  # frame (w, h), det size
RECALL_DET_SIZES = (320, 640, 1280)
Timing = tuple[str, int, int, dict[str, float]]  # frame, det size, threads, ms per engine


class BlobReader(CalibrationDataReader):
    """Feeds ready YuNet input blobs, one per call."""

    def __init__(self, blobs: list[np.ndarray]) -> None:
        self.blobs, self.pos = blobs, 0

    def get_next(self) -> dict[str, np.ndarray] | None:
        if self.pos >= len(self.blobs):
            return None
        self.pos += 1
        return {"input": self.blobs[self.pos - 1]}

    def rewind(self) -> None:
        self.pos = 0


def calibration_blobs(train: FaceSet, det_sizes: tuple[int, ...]) -> list[np.ndarray]:
    """Recall-benchmark scenes of Training faces (another seed than the benchmark's), scaled
    to each detection size the way `FaceDetector` scales frames."""
    return [input_blob(rescale(s.image, d)[0]) for s in make_scenes(train, seed=1)
            for d in det_sizes]


def quantize_yunet(fp32: Path, out: Path, blobs: list[np.ndarray]) -> None:
    """YuNet -> static int8 QDQ: any input size, opset 13 (per-channel DequantizeLinear),
    int8 per-channel 7-bit weights, uint8 activations from min-max calibration on `blobs`."""
    with tempfile.TemporaryDirectory() as work:
        prepared = Path(work) / "yunet13.onnx"
        model = onnx.load_from_string(free_sizes(fp32.read_bytes()))
        onnx.save(version_converter.convert_version(model, 13), str(prepared))
        logging.getLogger("root").setLevel(logging.ERROR)
        quantize_static(str(prepared), str(out), BlobReader(blobs),
                        quant_format=QuantFormat.QDQ, per_channel=True,
                        weight_type=QuantType.QInt8, activation_type=QuantType.QUInt8,
                        calibrate_method=CalibrationMethod.MinMax, reduce_range=True,
                        extra_options={"CalibTensorRangeSymmetric": False})


def detectors(fp32: Path, int8: Path, threads: int) -> dict[str, FaceDetector]:
    """One detector per engine on `threads` threads (OpenCV's count is process-wide)."""
    return {"opencv": FaceDetector(fp32, engine="opencv", threads=threads),
            "ort": FaceDetector(fp32, engine="ort", threads=threads),
            "ort-int8": FaceDetector(int8, engine="ort", threads=threads)}


def median_ms(dets: dict[str, FaceDetector], frame: np.ndarray, det_size: int,
              runs: int) -> dict[str, float]:
    """Median milliseconds per call of each detector, the engines taking turns."""
    ms: dict[str, list[float]] = {name: [] for name in dets}
    for i in range(runs + 10):  # the first 10 warm up
        for name, det in dets.items():
            start = time.perf_counter()
            det(frame, det_size)
            if i >= 10:
                ms[name].append((time.perf_counter() - start) * 1000)
    return {name: float(np.median(v)) for name, v in ms.items()}


def recall(pipeline: EmotionPipeline, scenes: list[Scene]) -> dict[int, float]:
    """Faces found over all scenes, per detection size."""
    rows = measure_recall(pipeline, scenes, RECALL_DET_SIZES)
    return {d: pooled_recall(rows, d) for d in RECALL_DET_SIZES}


def time_cases(fp32: Path, int8: Path, frame640: np.ndarray,
               runs: int) -> list[Timing]:
    """(frame, det size, threads, median ms per engine) for every case at 1 and 2 threads."""
    rows = []
    for threads in (1, 2):
        dets = detectors(fp32, int8, threads)
        for (w, h), det_size in CASES:
            frame = cv2.resize(frame640, (w, h), interpolation=cv2.INTER_AREA)
            rows.append((f"{w}x{h}", det_size, threads, median_ms(dets, frame, det_size, runs)))
    return rows


def report(timing: list[Timing], found: dict[str, dict[int, float]], n_scenes: int,
           args: argparse.Namespace, load: float, size_kb: float) -> harness.Report:
    """The page: timing table, recall table, int8 verdict."""
    out = harness.Report.start(args.command)
    out.add(f"Load average {load:.1f} at the start (other jobs share the cores: compare "
            "engines within a row, not across runs).")
    ms_cols = {e: ".2f" for e in ENGINES}
    times = out.add(harness.Table(
        {"frame": "", "det size": "d", "threads": "d", **ms_cols, "ort / opencv": ".2f",
         "int8 / ort": ".2f"},
        title="**Detection milliseconds per frame** (median of interleaved calls; 640x480 "
              "frame of one FER2013 test face, or its 320x240 copy):"))
    for frame, det, threads, ms in timing:
        times.add(frame, det, threads, *(ms[e] for e in ENGINES), ms["ort"] / ms["opencv"],
                  ms["ort-int8"] / ms["ort"])
    recall_table = out.add(harness.Table(
        {"engine": "", **{f"det {d}": ".3f" for d in RECALL_DET_SIZES}},
        title=f"**Recall** on the recall benchmark ({n_scenes} scenes, "
              f"`edgefer.bench.recall`, faces {FACE_SIZES[0]}-{FACE_SIZES[-1]} px in 1600x900 "
              "photos) by detection size:"))
    for e in ENGINES:
        recall_table.add(e, *(found[e][d] for d in RECALL_DET_SIZES))
    worst = max(RECALL_DET_SIZES, key=lambda d: found["ort"][d] - found["ort-int8"][d])
    drop = (found["ort"][worst] - found["ort-int8"][worst]) * 100
    faster = all(ms["ort-int8"] < ms["ort"] for *_, ms in timing)
    out.figures = {"int8_kb": size_kb, "int8_recall_drop_points": drop, "int8_faster": faster}
    out.add(f"int8 YuNet ({size_kb:.0f} KB): recall at most {drop:.1f} points below fp32 "
            f"onnxruntime (det {worst}), {'faster' if faster else 'not faster'} in every "
            f"timing row; worth shipping (within 1 point and faster): "
            f"{'yes' if drop <= 1 and faster else 'no'}.")
    return out


def main(argv: list[str] | None = None) -> None:
    ap = harness.parser(__doc__, __file__, "data", "detector", "out")
    ap.add_argument("--runs", type=harness.positive, default=200,
                    help="timed calls per engine and case")
    ap.add_argument("--calib-sizes", type=harness.positive, nargs="+", default=[320],
                    help="detection sizes the int8 calibration scenes are scaled to")
    ap.add_argument("--int8", type=Path, default=None,
                    help="keep the int8 YuNet here (default: a temporary file)")
    args = ap.parse(argv)
    faces = load_faces(args.data)
    test = faces.split("test")
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        int8 = args.int8 or Path(tmp) / "yunet.int8.onnx"
        quantize_yunet(args.detector, int8, calibration_blobs(faces.split("train"),
                                                              tuple(args.calib_sizes)))
        timing = time_cases(args.detector, int8, composite_frame(test.images[:1]), args.runs)
        classifier, scenes = EmotionClassifier(), make_scenes(test)
        found = {name: recall(EmotionPipeline(classifier, det), scenes)
                 for name, det in detectors(args.detector, int8, 2).items()}
        size_kb = int8.stat().st_size / 1024
    harness.publish(report(timing, found, len(scenes), args, load, size_kb), args.out)


if __name__ == "__main__":
    harness.run(main)
