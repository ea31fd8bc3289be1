"""An edgefer fp32 ONNX file read back into PyTorch: its weights by name (warm starts) and
the eval-mode network they form, BatchNorms folded (ONNX teachers, the LiteRT converter)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from edgefer.errors import EdgeferError, first_line
from edgefer.modelfile import load_fp32
from edgefer.models import create_model
from edgefer.models.layers import fold_batchnorm
from edgefer.preprocess import Preprocess


def read_onnx(path: Path, use: str) -> tuple[str | None, Preprocess, list[str],
                                             dict[str, np.ndarray]]:
    """Architecture, input, labels and named weights of an edgefer fp32 ONNX file, read for
    `use` (named in the error when the file is not one)."""
    from onnx import numpy_helper

    proto, meta = load_fp32(path, use)
    # export wraps the network in nn.Sequential(net, Softmax): its weights are named "0.<key>"
    weights = {t.name.removeprefix("0."): numpy_helper.to_array(t).copy()
               for t in proto.graph.initializer if t.name.startswith("0.")}
    return meta.arch, meta.preprocess, meta.labels, weights


def network_from_onnx(path: Path, use: str) -> nn.Module:
    """The eval-mode network (logits out) whose function the fp32 ONNX file computes, with
    its BatchNorms folded into the convolutions as in the file."""
    arch, spec, labels, weights = read_onnx(path, use)
    if arch is None:
        raise EdgeferError(f"{path}: its metadata names no architecture to rebuild")
    net = fold_batchnorm(create_model(arch, len(labels), spec.channels).eval())
    try:
        net.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()})
    except RuntimeError as e:
        raise EdgeferError(f"{path}: its weights do not fit a {arch!r} network "
                           f"({first_line(e)})") from None
    return net
