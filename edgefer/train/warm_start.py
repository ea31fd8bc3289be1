"""Warm starts (`edgefer train --init`): a new run begins from a trained model's weights.

The source is an edgefer checkpoint (file or run directory) of the same architecture, or the
fp32 ONNX file `edgefer export` wrote from one (the shipped models come only as ONNX). Export
folds each BatchNorm into its convolution; here the folded convolution is unfolded again: the
conv keeps the folded weights and its BatchNorm gets the statistics those weights produce on
real faces, with scale and shift chosen so that the network computes exactly the exported
function in eval mode, and nearly the same in training mode (batch statistics). An ONNX file
of a narrower EdgeNet of the same depths (`edge` for `edge-w`) starts a wider one: its layers
are widened first, computing the same function (`widen.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from edgefer.errors import EdgeferError
from edgefer.models import create_model, list_models
from edgefer.models.layers import bias_only, conv_bn_pairs
from edgefer.preprocess import Preprocess
from edgefer.train.checkpoint import load_checkpoint, model_from_checkpoint
from edgefer.train.onnx_network import read_onnx
from edgefer.train.widen import widen, widens


@dataclass
class WarmSource:
    """A warm start's source, read once: its architecture, input and labels, and its weights:
    a checkpoint's model, or an fp32 ONNX file's folded weights by name."""

    path: Path
    arch: str | None
    spec: Preprocess
    labels: list[str]
    model: nn.Module | None = None
    weights: dict[str, np.ndarray] | None = None


def read_source(path: Path) -> WarmSource:
    """Read a checkpoint, run directory or fp32 ONNX file to start a run from; the run takes
    its input (`spec`): weights are only right for the input they were trained on."""
    if path.suffix == ".onnx":
        arch, spec, labels, weights = read_onnx(path, "warm starts (--init)")
        return WarmSource(path, arch, spec, labels, weights=weights)
    ckpt = load_checkpoint(path)
    model, spec, labels = model_from_checkpoint(ckpt)
    return WarmSource(path, ckpt["arch"], spec, labels, model=model)


def warm_start(model: nn.Module, arch: str, source: WarmSource, labels: list[str],
               faces: torch.Tensor) -> bool:
    """Load `source`'s weights into `model` (built as `arch` for `source.spec` and `labels`);
    `faces` (preprocessed, N x C x H x W) measure the unfolded BatchNorm statistics. True when
    a narrower model's weights were widened to fit."""
    if source.labels != labels:
        raise EdgeferError(f"--init {source.path}: its labels differ from this run's")
    weights, widened = source.weights, source.arch != arch
    if widened:
        if weights is None or source.arch not in list_models() \
                or not widens(create_model(source.arch), model):
            raise EdgeferError(f"--init {source.path}: holds an {source.arch!r} model, not "
                               f"{arch!r} (--model) nor an exported narrower one of its shape")
        weights = widen(model, weights)
    if source.model is not None:
        model.load_state_dict(source.model.state_dict())
    else:
        _unfold(model, weights, faces, source.path)
    return widened


@torch.no_grad()
def _unfold(model: nn.Module, weights: dict[str, np.ndarray], faces: torch.Tensor,
            path: Path) -> None:
    pairs = conv_bn_pairs(model)
    state = model.state_dict()
    unfolded = tuple(f"{name}." for pair in pairs for name in pair[:2])
    # in the file: every weight outside the folded pairs, and each conv's folded weight + bias
    wanted = {k: tuple(v.shape) for k, v in state.items() if not k.startswith(unfolded)}
    for conv_name, _, conv, _ in pairs:
        wanted |= {f"{conv_name}.weight": tuple(conv.weight.shape),
                   f"{conv_name}.bias": (conv.out_channels,)}
    bad = sorted(k for k, shape in wanted.items()
                 if k not in weights or weights[k].shape != shape)
    if bad:
        raise EdgeferError(f"--init {path}: its weights do not fit the model "
                           f"(missing or misshapen: {', '.join(bad[:3])})")
    for k in wanted:
        if k in state:
            state[k].copy_(torch.from_numpy(weights[k]))
    shifts = {}
    for conv_name, _, conv, bn in pairs:
        if conv.bias is not None:
            conv.bias.zero_()
        shifts[conv_name] = torch.from_numpy(weights[f"{conv_name}.bias"])
        bias_only(bn, shifts[conv_name])  # the exported function, exactly
    stats = _conv_output_stats(model, [conv for _, _, conv, _ in pairs], faces)
    for (conv_name, _, _, bn), (mean, var) in zip(pairs, stats, strict=True):
        # the same function with the statistics training will see: scale * (x - mean) / std
        # + shift = x + folded bias, so train-mode batches are normalised as they were
        bn.running_mean.copy_(mean), bn.running_var.copy_(var)
        bn.weight.copy_((var + bn.eps).sqrt()), bn.bias.copy_(mean + shifts[conv_name])


def _conv_output_stats(model: nn.Module, convs: list[nn.Conv2d],
                       faces: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Per-channel mean and variance of each conv's output over `faces` (eval mode)."""
    sums: dict[int, list[torch.Tensor]] = {id(c): [] for c in convs}

    def hook(conv, _inp, out):
        out = out.float().transpose(0, 1).flatten(1)
        sums[id(conv)].append(torch.stack([out.sum(1), (out * out).sum(1),
                                           torch.full_like(out[:, 0], out.shape[1])]))

    handles = [c.register_forward_hook(hook) for c in convs]
    was_training = model.training
    model.eval()
    try:
        for batch in faces.split(256):
            model(batch)
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    stats = []
    for c in convs:
        s, s2, n = torch.stack(sums[id(c)]).sum(0)
        mean = s / n
        stats.append((mean, (s2 / n - mean * mean).clamp_min(0)))
    return stats
