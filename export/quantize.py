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
from edgefer.export.to_onnx import INPUT
from edgefer.preprocess import Preprocess

CALIB_METHODS = {"minmax": CalibrationMethod.MinMax, "entropy": CalibrationMethod.Entropy,
                 "percentile": CalibrationMethod.Percentile}
ACTIVATION_TYPES = {"uint8": QuantType.QUInt8, "int8": QuantType.QInt8}


class FaceReader(CalibrationDataReader):
    """Feeds calibration faces through the runtime's own preprocessing, in batches."""

    def __init__(self, faces: FaceSet, spec: Preprocess, batch: int = 64) -> None:
        self.batches = [spec(faces.images[i:i + batch]) for i in range(0, len(faces), batch)]
        self.pos = 0

    def get_next(self) -> dict[str, np.ndarray] | None:
        if self.pos >= len(self.batches):
            return None
        self.pos += 1
        return {INPUT: self.batches[self.pos - 1]}

    def rewind(self) -> None:
        self.pos = 0


def calibration_set(train: FaceSet, size: int, seed: int) -> FaceSet:
    """A class-stratified sample of Training faces to calibrate on."""
    if size < 1:
        raise EdgeferError(f"--calib-size must be at least 1, not {size}")
    if len(train) == 0:
        raise EdgeferError("calibration needs Training faces and the dataset has none")
    return train.sample(size, seed=seed)


def quantize_int8(fp32: Path, out: Path, faces: FaceSet, spec: Preprocess, method: str,
                  activations: str, work: Path) -> None:
    """fp32 ONNX -> QDQ int8 ONNX: per-channel int8 weights, the softmax left in float."""
    if method not in CALIB_METHODS:
        raise EdgeferError(f"--calib-method must be one of {', '.join(CALIB_METHODS)}")
    if activations not in ACTIVATION_TYPES:
        raise EdgeferError(f"--activations must be one of {', '.join(ACTIVATION_TYPES)}")
    prepared = work / "prepared.onnx"
    logging.getLogger("root").setLevel(logging.ERROR)
    quant_pre_process(str(fp32), str(prepared))
    softmax = [n.name for n in onnx.load(str(prepared)).graph.node if n.op_type == "Softmax"]
    quantize_static(
        str(prepared), str(out), FaceReader(faces, spec), quant_format=QuantFormat.QDQ,
        per_channel=True, weight_type=QuantType.QInt8,
        activation_type=ACTIVATION_TYPES[activations], calibrate_method=CALIB_METHODS[method],
        nodes_to_exclude=softmax, calibration_cache_path=None,
        extra_options={"CalibTensorRangeSymmetric": False})
