"""Parameter and multiply-accumulate counts of a model for one input image."""

from __future__ import annotations

import torch
from torch import nn


def count_params(model: nn.Module) -> int:
    """Number of parameters (trainable and not; BN running stats excluded)."""
    return sum(p.numel() for p in model.parameters())


def count_macs(model: nn.Module, input_shape: tuple[int, ...] = (1, 48, 48)) -> int:
    """Multiply-accumulates of Conv2d and Linear layers for one image of `input_shape`."""
    total = 0

    def conv_hook(m: nn.Conv2d, _inp, out) -> None:
        nonlocal total
        k = m.kernel_size[0] * m.kernel_size[1] * m.in_channels // m.groups
        total += out[0].numel() * k

    def linear_hook(m: nn.Linear, _inp, out) -> None:
        nonlocal total
        total += out[0].numel() * m.in_features

    hooks = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            hooks.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            hooks.append(m.register_forward_hook(linear_hook))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(torch.zeros(1, *input_shape))
    finally:
        model.train(was_training)
        for h in hooks:
            h.remove()
    return total
