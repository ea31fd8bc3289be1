"""An edgefer fp32 ONNX file as a LiteRT (.tflite) model: the network rebuilt in PyTorch from
the file's weights, converted by litert-torch (NCHW input kept, one face per call: it cannot
lower these networks with a free batch size), and for int8 quantized full-integer by
ai-edge-quantizer (int8 weights per channel, int8 activations from min/max calibration, float
input and output). Needs the tflite-export extra.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import warnings
from collections.abc import Iterator
from dataclasses import replace

import numpy as np
import torch
from torch import nn

from edgefer.errors import EdgeferError, first_line
from edgefer.modelmeta import ModelMeta
from edgefer.runtime.backends import no_stderr
from edgefer.runtime.tflite_file import with_metadata
from edgefer.train.onnx_network import network_from_onnx

# what an int8 LiteRT file's metadata says of its quantization (beside the faces it used)
QUANTIZATION = {"method": "minmax", "activations": "int8", "weights": "int8 per-channel",
                "input": "calibrated", "format": "LiteRT full integer"}


def to_tflite(onnx_path: os.PathLike, meta: ModelMeta, calib: np.ndarray | None) -> bytes:
    """The LiteRT model of the fp32 ONNX file at `onnx_path` with `meta` inside: fp32, or
    int8 calibrated on `calib` (preprocessed faces) when given."""
    logging.getLogger("torchao").setLevel(logging.ERROR)  # its optional CUDA kernels
    import litert_torch

    if calib is not None:
        meta = replace(meta, calibration={**(meta.calibration or {}), **QUANTIZATION})
    net = nn.Sequential(network_from_onnx(onnx_path, "LiteRT conversions"),
                        nn.Softmax(dim=1)).eval()
    h, w = meta.preprocess.size
    c = meta.preprocess.channels
    sample = torch.zeros((1, c, h, w) if meta.preprocess.layout == "NCHW" else (1, h, w, c))
    try:
        with _quiet():
            with no_stderr():  # the converter's native log lines
                flat = bytes(litert_torch.convert(net, (sample,)).model_content())
            if calib is not None:
                flat = _quantize(flat, calib)
    except Exception as e:  # the converters raise their own error types
        raise EdgeferError(f"litert-torch could not convert {onnx_path}: {first_line(e)}") \
            from None
    return with_metadata(flat, meta)


def _quantize(fp32: bytes, calib: np.ndarray) -> bytes:
    """Full-integer int8 with ai-edge-quantizer, calibrated on `calib`."""
    from ai_edge_litert.interpreter import Interpreter
    from ai_edge_quantizer import quantizer, recipe

    (key, signature), = Interpreter(model_content=fp32).get_signature_list().items()
    q = quantizer.Quantizer(bytearray(fp32))
    q.load_quantization_recipe(recipe.static_wi8_ai8())
    faces = [{signature["inputs"][0]: face[None]} for face in calib]  # one face per call
    result = q.quantize(q.calibrate({key: faces}, num_threads=os.cpu_count() or 1))
    return bytes(result.quantized_model)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """The converters' progress prints, warnings and absl logs kept off the terminal."""
    logging.getLogger("absl").setLevel(logging.ERROR)
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        yield
