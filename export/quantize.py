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


def quantize_int8(fp32: Path, out: Path, faces: FaceSet, spec: Preprocess, method: str,
                  activations: str, reduce_range: bool, work: Path) -> None:
    """fp32 ONNX -> QDQ int8 ONNX: per-channel int8 weights, the softmax left in float
    (`method` and `activations` checked by `ExportOptions`).

    `reduce_range` keeps weights in 7 bits: x86 CPUs without VNNI (AVX2: AMD Zen 1-3, Intel
    before Cascade Lake) multiply uint8 x int8 pairs into saturating int16 (VPMADDUBSW), which
    cost the shipped model 7 val points there with full-range weights (65.0 -> 57.9%).
    """
    prepared = work / "prepared.onnx"
    logging.getLogger("root").setLevel(logging.ERROR)
    quant_pre_process(str(fp32), str(prepared))
    graph = onnx.load(str(prepared)).graph
    softmax = [n.name for n in graph.node if n.op_type == "Softmax"]
    quantize_static(
        str(prepared), str(out), FaceReader(faces, spec, graph.input[0].name),
        quant_format=QuantFormat.QDQ, per_channel=True, weight_type=QuantType.QInt8,
        activation_type=ACTIVATION_TYPES[activations], calibrate_method=CALIB_METHODS[method],
        nodes_to_exclude=softmax, calibration_cache_path=None, reduce_range=reduce_range,
        extra_options={"CalibTensorRangeSymmetric": False})
