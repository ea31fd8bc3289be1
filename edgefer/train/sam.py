"""Sharpness-aware minimization (SAM, Foret et al. 2021): the gradient taken at the weights
moved `rho` up their own gradient, so the optimizer prefers minima that stay low around
them. One extra forward and backward pass per step."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch.nn.modules.batchnorm import _BatchNorm


@contextlib.contextmanager
def ascended(model: torch.nn.Module, rho: float) -> Iterator[None]:
    """`model`'s weights moved by `rho` along their current gradient (unit norm over all of
    them) for the duration, batch norm's running statistics frozen (the second pass sees the
    same batch again); a gradient that is not finite (an fp16 overflow) moves nothing."""
    params = [p for p in model.parameters() if p.grad is not None]
    norm = torch.linalg.vector_norm(torch.stack([p.grad.detach().norm() for p in params]))
    scale = rho / (norm + 1e-12) if torch.isfinite(norm) else torch.zeros(())
    saved = [p.detach().clone() for p in params]
    with torch.no_grad():
        for p in params:
            p.add_(p.grad * scale.to(p.grad.dtype))
    norms = [m for m in model.modules() if isinstance(m, _BatchNorm) and m.track_running_stats]
    kept = [(m.momentum, m.num_batches_tracked) for m in norms]
    for m in norms:
        m.momentum, m.num_batches_tracked = 0.0, m.num_batches_tracked.clone()
    try:
        yield
    finally:
        with torch.no_grad():
            for p, w in zip(params, saved, strict=True):
                p.copy_(w)
        for m, (momentum, batches) in zip(norms, kept, strict=True):
            m.momentum, m.num_batches_tracked = momentum, batches
