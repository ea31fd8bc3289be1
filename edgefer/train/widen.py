"""Widening a trained EdgeNet (`edgefer train --init` from a narrower model): Net2WiderNet.

Each convolution of the wider model keeps the source's output channels and fills the rest with
copies of randomly chosen ones (weights and folded bias); the layer reading them (the next
convolution, or the linear head) shares each copied channel's weight among its copies. The
copies compute the same activation, so any shares summing to one leave the function unchanged;
the shares are drawn at random, which gives the copies different gradients from the first step
on (equal shares would keep them identical for ever).
"""

from __future__ import annotations

import numpy as np
from torch import nn

from edgefer.models.edge import EdgeNet
from edgefer.models.layers import conv_bn_pairs


def widens(source: nn.Module, model: nn.Module) -> bool:
    """Whether `model` is `source` with the same layers and stem, each stage as wide or wider
    (neither with train-time branches)."""
    if not (isinstance(source, EdgeNet) and isinstance(model, EdgeNet)):
        return False
    names, depths = ([[n for n, _, _, _ in conv_bn_pairs(m)] for m in (source, model)],
                     [[d for _, d in m.stages] for m in (source, model)])
    return (names[0] == names[1] and depths[0] == depths[1]
            and source.stem_stride == model.stem_stride
            and all(w <= wm for (w, _), (wm, _) in zip(source.stages, model.stages, strict=True)))


def widen(model: nn.Module, weights: dict[str, np.ndarray], seed: int = 0
          ) -> dict[str, np.ndarray]:
    """The folded (exported) weights of a narrower EdgeNet (`widens(it, model)`), widened to
    `model`'s shapes."""
    rng = np.random.default_rng(seed)
    head = next(n for n, m in reversed(list(model.named_modules())) if isinstance(m, nn.Linear))
    state = model.state_dict()
    out = dict(weights)
    copies = None  # the previous layer's source channel for each of its output channels
    for name in [name for name, _, _, _ in conv_bn_pairs(model)] + [head]:
        w, wanted = weights[f"{name}.weight"], state[f"{name}.weight"].shape[0]
        if copies is not None:
            w = w[:, copies] * _shares(copies, w.shape[0], rng).reshape(
                (w.shape[0], len(copies)) + (1,) * (w.ndim - 2))
        copies = np.concatenate([np.arange(w.shape[0]),
                                 rng.integers(0, w.shape[0], wanted - w.shape[0])])
        out[f"{name}.weight"] = w[copies]
        out[f"{name}.bias"] = weights[f"{name}.bias"][copies]
    return out


def _shares(copies: np.ndarray, rows: int, rng: np.random.Generator) -> np.ndarray:
    """rows x len(copies) random positive fractions summing to one over each source channel's
    copies (1 where a channel was not copied)."""
    draw = rng.uniform(0.5, 1.5, (rows, len(copies)))
    totals = np.zeros((rows, copies.max() + 1))
    np.add.at(totals.T, copies, draw.T)
    return (draw / totals[:, copies]).astype(np.float32)
