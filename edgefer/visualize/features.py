"""Feature maps of every ReLU'd convolution and pooling layer, from a checkpoint or fp32 ONNX.

Layers are named alike in both (conv1, conv2, pool1, ... in forward order): a checkpoint's
Conv-BN-ReLU block and the exported graph's folded Conv->Relu give the same map.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgefer.errors import EdgeferError
from edgefer.preprocess import Preprocess


@dataclass
class FeatureMap:
    """One layer's output for one face."""

    name: str  # conv3, pool1, ...
    source: str  # the torch module path or ONNX tensor name
    maps: np.ndarray  # (channels, height, width)


@dataclass
class Inspected:
    """A model's feature maps and prediction for one face."""

    layers: list[FeatureMap]
    labels: list[str]
    probs: np.ndarray


def _named(kinds: list[str], sources: list[str], maps: list[np.ndarray]) -> list[FeatureMap]:
    counts = {"conv": 0, "pool": 0}
    out = []
    for kind, source, m in zip(kinds, sources, maps, strict=True):
        counts[kind] += 1
        out.append(FeatureMap(f"{kind}{counts[kind]}", source, m))
    return out


def checkpoint_inspector(path: Path) -> Callable[[np.ndarray], Inspected]:
    """Load a checkpoint once; the function returned runs it on one face, keeping each ReLU
    (conv block) and max-pool output."""
    import torch
    from torch import nn

    from edgefer.train.predictor import CheckpointClassifier

    clf = CheckpointClassifier(path)
    model, spec, labels = clf.model, clf.preprocess, clf.labels
    kinds: list[str] = []
    sources: list[str] = []
    maps: list[np.ndarray] = []

    def keep(kind: str, name: str):
        def hook(_module, _inputs, output):
            if output.ndim == 4:
                kinds.append(kind)
                sources.append(name)
                maps.append(output[0].detach().numpy().copy())
        return hook

    for name, module in model.named_modules():
        if isinstance(module, nn.ReLU):
            module.register_forward_hook(keep("conv", name))
        elif isinstance(module, nn.MaxPool2d):
            module.register_forward_hook(keep("pool", name))

    @torch.no_grad()
    def run(face: np.ndarray) -> Inspected:
        kinds.clear()
        sources.clear()
        maps.clear()
        probs = model(torch.from_numpy(spec([face]))).softmax(1)[0].numpy()
        return Inspected(_named(kinds, sources, maps), labels, probs)

    return run


def inspect_checkpoint(path: Path, face: np.ndarray) -> Inspected:
    """A checkpoint's feature maps and prediction for one face."""
    return checkpoint_inspector(path)(face)


def inspect_onnx(path: Path, face: np.ndarray) -> Inspected:
    """The same from an exported fp32 model: its Relu and MaxPool outputs become graph
    outputs of an in-memory copy run by onnxruntime."""
    import onnx
    import onnxruntime as ort

    from edgefer.modelfile import load_fp32

    model, meta = load_fp32(path, "feature maps")
    picked = [(("conv" if n.op_type == "Relu" else "pool"), n.output[0])
              for n in model.graph.node if n.op_type in ("Relu", "MaxPool")]
    known = {o.name for o in model.graph.output}
    model.graph.output.extend(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT,
                                                                 None)
                              for _, name in picked if name not in known)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    spec: Preprocess = meta.preprocess
    names = [o.name for o in session.get_outputs()]
    outputs = dict(zip(names, session.run(None, {session.get_inputs()[0].name: spec([face])}),
                       strict=True))
    kept = [(k, n, outputs[n][0]) for k, n in picked if outputs[n].ndim == 4]
    layers = _named([k for k, _, _ in kept], [n for _, n, _ in kept],
                    [m if spec.layout == "NCHW" else m.transpose(2, 0, 1) for _, _, m in kept])
    return Inspected(layers, meta.labels, outputs[names[0]][0])


def inspect(path: Path, face: np.ndarray) -> Inspected:
    """Feature maps from a checkpoint (.pt or run dir) or an exported fp32 .onnx."""
    if path.suffix == ".onnx":
        return inspect_onnx(path, face)
    return inspect_checkpoint(path, face)


def pick_layers(layers: list[FeatureMap], wanted: list[str] | None) -> list[FeatureMap]:
    """The layers named in `wanted` (all when None); EdgeferError names unknown ones."""
    if not wanted:
        return layers
    names = [f.name for f in layers]
    unknown = [w for w in wanted if w not in names]
    if unknown:
        raise EdgeferError(f"unknown layer(s) {', '.join(unknown)}: this model has "
                           f"{', '.join(names)}")
    return [f for f in layers if f.name in wanted]
