"""Batch augmentation on normalised tensors: random affine (rotate, shift, scale, flip),
random erasing, mixup and CutMix, and random camera corruptions, drawn from one CPU
`torch.Generator` so a resumed run replays exactly; all but the corruptions run on the
batch's own device."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from edgefer.corruptions import random_corruptions
from edgefer.errors import EdgeferError
from edgefer.preprocess import Preprocess


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


class Mix:
    """mixup (each face blended with another face of the batch) and CutMix (a box of it
    replaced by the other face's), one of them per batch (a coin toss when both are on), at a
    weight `lam` drawn per batch from Beta(alpha, alpha): the loss weighs the face's own label
    by `lam` and the other's by 1 - lam."""

    def __init__(self, mixup: float, cutmix: float):
        self.mixup, self.cutmix = mixup, cutmix

    def __call__(self, x: torch.Tensor, g: torch.Generator
                 ) -> tuple[torch.Tensor, torch.Tensor | None, float]:
        """The mixed batch, each face's partner (indices into the batch; None when off)
        and the weight of the face's own label."""
        if not (self.mixup or self.cutmix):
            return x, None, 1.0
        rng = np.random.default_rng(int(torch.randint(2 ** 62, (1,), generator=g)))
        cut = bool(self.cutmix) and (not self.mixup or rng.random() < 0.5)
        lam = float(rng.beta(*(2 * [self.cutmix if cut else self.mixup])))
        partner = torch.from_numpy(rng.permutation(len(x))).to(x.device)
        if not cut:
            return lam * x + (1 - lam) * x[partner], partner, lam
        h, w = x.shape[-2:]
        ch, cw = round(h * math.sqrt(1 - lam)), round(w * math.sqrt(1 - lam))
        cy, cx = int(rng.integers(h)), int(rng.integers(w))
        y0, y1 = max(cy - ch // 2, 0), min(cy + ch - ch // 2, h)
        x0, x1 = max(cx - cw // 2, 0), min(cx + cw - cw // 2, w)
        x = x.clone()
        x[..., y0:y1, x0:x1] = x[partner][..., y0:y1, x0:x1]
        return x, partner, 1 - (y1 - y0) * (x1 - x0) / (h * w)  # the box as clipped


class Corrupt:
    """A share `rate` of the faces through one random camera corruption
    (`edgefer.corruptions.random_corruptions`) on the 8-bit pixels a camera gives: the batch
    goes back to uint8 through the preprocessing, is corrupted on the CPU and normalised again.
    """

    def __init__(self, rate: float, spec: Preprocess):
        if rate and (spec.channels != 1 or spec.layout != "NCHW"):
            raise EdgeferError("--corrupt needs a grayscale NCHW model input")
        self.rate, self.spec = rate, spec

    def __call__(self, x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        if not self.rate:
            return x
        rng = np.random.default_rng(int(torch.randint(2 ** 62, (1,), generator=g)))
        (lo, hi), (mean,), (std,) = self.spec.range, self.spec.mean, self.spec.std
        pixels = (x[:, 0].float().cpu().numpy() * std + mean - lo) * (255 / (hi - lo))
        pixels = np.clip(np.round(pixels), 0, 255).astype(np.uint8)
        faces = random_corruptions(pixels, self.rate, rng)
        return torch.from_numpy(self.spec(faces)).to(x.device, x.dtype)
