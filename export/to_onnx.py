"""PyTorch -> fp32 ONNX: BatchNorm folded into convolutions, softmax output, dynamic batch."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import numpy as np
import onnx
import torch
from torch import nn

from edgefer.errors import EdgeferError
from edgefer.models.layers import fold_batchnorm
from edgefer.preprocess import Preprocess

OPSET = 18
INPUT, OUTPUT = "input", "probs"


def export_fp32(model: nn.Module, spec: Preprocess, path: Path) -> None:
    """Write the eval-mode model, with softmax appended, as an ONNX file at `path`."""
    net = nn.Sequential(fold_batchnorm(model.eval()), nn.Softmax(dim=1)).eval()
    h, w = spec.size
    shape = (2, spec.channels, h, w) if spec.layout == "NCHW" else (2, h, w, spec.channels)
    dummy = torch.zeros(shape)
    logging.getLogger("torch.onnx").setLevel(logging.ERROR)  # e.g. "torchvision not installed"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(
            net, (dummy,), dynamo=True, opset_version=OPSET, input_names=[INPUT],
            output_names=[OUTPUT], dynamic_shapes=({0: torch.export.Dim("batch")},),
            optimize=True, verbose=False)
    program.save(str(path))
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)


def torch_max_diff(model: nn.Module, onnx_probs: np.ndarray, x: np.ndarray) -> float:
    """Largest absolute difference between PyTorch's and the ONNX file's probabilities."""
    with torch.no_grad():
        ref = model.eval()(torch.from_numpy(x)).softmax(1).numpy()
    diff = float(np.abs(ref - onnx_probs).max())
    if not np.isfinite(diff):
        raise EdgeferError("the exported model gives non-finite outputs")
    return diff
