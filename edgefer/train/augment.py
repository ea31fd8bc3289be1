"""Batch augmentation on normalised tensors: random affine (rotate, shift, scale, flip) and
random erasing, drawn from one CPU `torch.Generator` so a resumed run replays exactly; the
pixels are resampled on the batch's own device."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


class Augment:
    """Applies the same kinds of distortion to a batch, with per-sample random strength."""

    def __init__(self, rotate: float, shift: float, scale: float, flip: float, erase: float):
        self.rotate, self.shift, self.scale = rotate, shift, scale
        self.flip, self.erase = flip, erase

    def __call__(self, x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        n = x.shape[0]
        if self.rotate or self.shift or self.scale or self.flip:
            x = self._affine(x, g, n)
        if self.erase:
            x = self._erase(x, g, n)
        return x

    def _affine(self, x: torch.Tensor, g: torch.Generator, n: int) -> torch.Tensor:
        def uniform(lo: float, hi: float, *shape: int) -> torch.Tensor:
            return lo + (hi - lo) * torch.rand(*shape, generator=g)

        angle = uniform(-self.rotate, self.rotate, n) * (math.pi / 180)
        zoom = uniform(1 - self.scale, 1 + self.scale, n)
        shift = uniform(-2 * self.shift, 2 * self.shift, n, 2)  # grid coordinates span 2
        mirror = torch.where(torch.rand(n, generator=g) < self.flip, -1.0, 1.0)
        cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
        theta = torch.stack([
            torch.stack([cos * mirror, -sin, shift[:, 0]], 1),
            torch.stack([sin * mirror, cos, shift[:, 1]], 1),
        ], 1).to(x.device, x.dtype)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)

    def _erase(self, x: torch.Tensor, g: torch.Generator, n: int) -> torch.Tensor:
        """Blank one rectangle of 2-20% of the area (aspect 0.3-3.3) in a share of the faces."""
        h, w = x.shape[-2:]
        area = (0.02 + 0.18 * torch.rand(n, generator=g)) * h * w
        aspect = torch.exp(torch.empty(n).uniform_(math.log(0.3), math.log(3.3), generator=g))
        eh = (area * aspect).sqrt().clamp(1, h)
        ew = (area / aspect).sqrt().clamp(1, w)
        y0 = torch.rand(n, generator=g) * (h - eh)
        x0 = torch.rand(n, generator=g) * (w - ew)
        on = torch.rand(n, generator=g) < self.erase
        ys = torch.arange(h).view(1, h, 1)
        xs = torch.arange(w).view(1, 1, w)
        box = (ys >= y0.view(-1, 1, 1)) & (ys < (y0 + eh).view(-1, 1, 1)) \
            & (xs >= x0.view(-1, 1, 1)) & (xs < (x0 + ew).view(-1, 1, 1))
        mask = (box & on.view(-1, 1, 1)).unsqueeze(1).to(x.device)
        return x.masked_fill(mask, 0.0)
