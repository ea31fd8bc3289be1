"""What a camera does to a face, as seeded transforms of gray uint8 face crops (N x H x W):
dark and bright exposure, low contrast, blur, JPEG, a face captured small and upscaled,
sensor noise. `CORRUPTIONS` (fixed severities) is read by the corruption benchmark
(benchmarks/corruption.py); `random_corruptions` draws the same kinds at random severities
for training that aims to survive them (`edgefer train --corrupt`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from edgefer.errors import BadArgumentError


@dataclass(frozen=True)
class Corruption:
    """One corruption at one severity: `apply(faces, rng)` -> corrupted copies."""

    name: str
    apply: Callable[[np.ndarray, np.random.Generator], np.ndarray]


def gamma(g: float) -> Callable[[np.ndarray, np.random.Generator], np.ndarray]:
    """Exposure: out = 255 * (in / 255) ** g (g > 1 darker, g < 1 brighter)."""
    table = np.clip(np.round(255 * (np.arange(256) / 255) ** g), 0, 255).astype(np.uint8)
    return lambda faces, _rng: table[faces]


def contrast(k: float) -> Callable[[np.ndarray, np.random.Generator], np.ndarray]:
    """Contrast scaled by `k` about each face's own mean."""
    def apply(faces: np.ndarray, _rng: np.random.Generator) -> np.ndarray:
        mean = faces.reshape(len(faces), -1).mean(1)[:, None, None]
        return np.clip(np.round(mean + k * (faces - mean)), 0, 255).astype(np.uint8)
    return apply


def blur(sigma: float) -> Callable[[np.ndarray, np.random.Generator], np.ndarray]:
    """Gaussian blur of `sigma` pixels (defocus, motion of the head)."""
    return lambda faces, _rng: np.stack([cv2.GaussianBlur(f, (0, 0), sigma) for f in faces])


def jpeg(quality: int) -> Callable[[np.ndarray, np.random.Generator], np.ndarray]:
    """JPEG encoding at `quality` (a compressed stream)."""
    def apply(faces: np.ndarray, _rng: np.random.Generator) -> np.ndarray:
        def one(face: np.ndarray) -> np.ndarray:
            _, data = cv2.imencode(".jpg", face, [cv2.IMWRITE_JPEG_QUALITY, quality])
            return cv2.imdecode(data, cv2.IMREAD_GRAYSCALE)
        return np.stack([one(f) for f in faces])
    return apply


def low_resolution(side: int) -> Callable[[np.ndarray, np.random.Generator], np.ndarray]:
    """A face captured at `side` pixels (far from the camera), upscaled back to its size."""
    def apply(faces: np.ndarray, _rng: np.random.Generator) -> np.ndarray:
        h, w = faces.shape[1:3]
        return np.stack([cv2.resize(cv2.resize(f, (side, side), interpolation=cv2.INTER_AREA),
                                    (w, h), interpolation=cv2.INTER_LINEAR) for f in faces])
    return apply


def noise(sigma: float) -> Callable[[np.ndarray, np.random.Generator], np.ndarray]:
    """Gaussian sensor noise of `sigma` grey levels (a dim room, a small sensor)."""
    def apply(faces: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        noisy = faces + rng.normal(0.0, sigma, faces.shape)
        return np.clip(np.round(noisy), 0, 255).astype(np.uint8)
    return apply


CORRUPTIONS = {c.name: c for c in (
    Corruption("darker (gamma 2)", gamma(2.0)),
    Corruption("brighter (gamma 0.5)", gamma(0.5)),
    Corruption("half contrast", contrast(0.5)),
    Corruption("blur, sigma 1.5 px", blur(1.5)),
    Corruption("JPEG quality 20", jpeg(20)),
    Corruption("captured at 24 px", low_resolution(24)),
    Corruption("captured at 16 px", low_resolution(16)),
    Corruption("noise, sigma 15", noise(15.0)),
)}


def corrupt(faces: np.ndarray, name: str, seed: int = 0) -> np.ndarray:
    """`faces` (N x H x W uint8) under corruption `name`, with a generator seeded by `seed`."""
    if name not in CORRUPTIONS:
        raise BadArgumentError(f"unknown corruption {name!r}: choose one of "
                               f"{', '.join(CORRUPTIONS)}")
    return CORRUPTIONS[name].apply(np.asarray(faces, np.uint8), np.random.default_rng(seed))


# Training draws one kind per corrupted face and a severity uniformly from its range, which
# spans milder faults than the benchmark's and reaches a little past them (log2 for gamma).
TRAINING_RANGES: dict[str, tuple[Callable, float, float]] = {
    "exposure": (lambda log2g: gamma(2.0 ** log2g), -1.3, 1.3),
    "contrast": (contrast, 0.3, 0.9),
    "blur": (blur, 0.5, 2.0),
    "jpeg": (lambda q: jpeg(round(q)), 10, 50),
    "low resolution": (lambda side: low_resolution(round(side)), 12, 32),
    "noise": (noise, 3.0, 20.0),
}


def random_corruptions(faces: np.ndarray, rate: float, rng: np.random.Generator) -> np.ndarray:
    """A copy of `faces` (N x H x W uint8) where each face, with probability `rate`, went
    through one kind of `TRAINING_RANGES` at a random severity."""
    out = np.array(faces, np.uint8)
    kinds = list(TRAINING_RANGES.values())
    for i in np.flatnonzero(rng.random(len(out)) < rate):
        make, lo, hi = kinds[rng.integers(len(kinds))]
        out[i] = make(rng.uniform(lo, hi))(out[i:i + 1], rng)[0]
    return out
