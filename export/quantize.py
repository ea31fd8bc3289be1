"""Static int8 QDQ quantization with onnxruntime, calibrated on FER2013 Training faces.

onnxruntime-tools (named in the design card) stopped at its 2021 release; its quantization
and optimisation code lives on in `onnxruntime.quantization`, which is what this uses.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import onnx
from onnxruntime.quantization import (
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    quant_pre_process,
    quantize_static,
)

from edgefer.data import FaceSet
from edgefer.errors import EdgeferError
from edgefer.preprocess import Preprocess

# onnxruntime's enums for ExportOptions' choices
CALIB_METHODS = {"minmax": CalibrationMethod.MinMax, "entropy": CalibrationMethod.Entropy,
                 "percentile": CalibrationMethod.Percentile}
ACTIVATION_TYPES = {"uint8": QuantType.QUInt8, "int8": QuantType.QInt8}


class FaceReader(CalibrationDataReader):
    """Feeds calibration faces through the runtime's own preprocessing, in batches of one
    size (the largest divisor of the face count up to `batch`): onnxruntime's entropy and
    percentile calibrators stack the batches and fail on a shorter last one."""

    def __init__(self, faces: FaceSet, spec: Preprocess, input_name: str, batch: int = 64) -> None:
        self.input_name = input_name
        batch = max(d for d in range(1, batch + 1) if len(faces) % d == 0)
        self.batches = [spec(faces.images[i:i + batch]) for i in range(0, len(faces), batch)]
        self.pos = 0

    def get_next(self) -> dict[str, np.ndarray] | None:
        if self.pos >= len(self.batches):
            return None
        self.pos += 1
        return {self.input_name: self.batches[self.pos - 1]}

    def rewind(self) -> None:
        self.pos = 0


def calibration_set(train: FaceSet, size: int, seed: int) -> FaceSet:
    """A class-stratified sample of Training faces to calibrate on (`size` checked by
    `ExportOptions`)."""
    if len(train) == 0:
        raise EdgeferError("calibration needs Training faces and the dataset has none")
    return train.sample(size, seed=seed)


def stem_weight(graph: onnx.GraphProto) -> str:
    """The weight of the convolution that reads the model's input (the stem)."""
    for node in graph.node:
        if node.op_type == "Conv" and graph.input[0].name in node.input:
            return node.input[1]
    raise EdgeferError("the model's input does not feed a convolution: no stem to quantize")


def quantize_int8(fp32: Path, out: Path, faces: FaceSet, spec: Preprocess, method: str,
                  activations: str, reduce_range: str, work: Path) -> str:
    """fp32 ONNX -> QDQ int8 ONNX: per-channel int8 weights, the softmax left in float
    (`method`, `activations` and `reduce_range` checked by `ExportOptions`). The input is
    quantized on its uint8 grid where `spec` has one (`Preprocess.uint8_grid`), else
    calibrated like every activation; returns which ("uint8 grid" or "calibrated").

    `reduce_range` says which weights keep to 7 bits: the stem's (the convolution reading
    the image), all or none. x86 CPUs without VNNI (AVX2: AMD Zen 1-3, Intel before Cascade
    Lake) multiply uint8 x int8 pairs into saturating int16 (VPMADDUBSW). The stem's input
    pairs are neighbouring pixels, alike and spanning the whole uint8 range, so full-range
    weights saturate there: the shipped edge lost 6 val points (69.13 -> 63.17%).
    Deeper inputs (after ReLU, mostly small) rarely saturate (no top-1 change on val), and
    8-bit weights there keep int8 closer to fp32 on every CPU (benchmarks/calibration.md).
    """
    prepared = work / "prepared.onnx"
    logging.getLogger("root").setLevel(logging.ERROR)
    quant_pre_process(str(fp32), str(prepared))
    graph = onnx.load(str(prepared)).graph
    softmax = [n.name for n in graph.node if n.op_type == "Softmax"]
    overrides = {stem_weight(graph): [{"axis": 0, "reduce_range": True}]} \
        if reduce_range == "stem" else {}
    grid = spec.uint8_grid()
    if grid is not None:  # the input quantized on its own uint8 grid, whatever calibration saw
        step, zero = grid
        zero_point = np.array(zero, np.uint8) if activations == "uint8" else \
            np.array(zero - 128, np.int8)
        overrides[graph.input[0].name] = [{"scale": np.array(step, np.float32),
                                           "zero_point": zero_point}]
    quantize_static(
        str(prepared), str(out), FaceReader(faces, spec, graph.input[0].name),
        quant_format=QuantFormat.QDQ, per_channel=True, weight_type=QuantType.QInt8,
        activation_type=ACTIVATION_TYPES[activations], calibrate_method=CALIB_METHODS[method],
        nodes_to_exclude=softmax, calibration_cache_path=None,
        reduce_range=reduce_range == "all",
        extra_options={"CalibTensorRangeSymmetric": False, "TensorQuantOverrides": overrides})
    return "calibrated" if grid is None else "uint8 grid"
