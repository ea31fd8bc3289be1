"""`FaceSet`: FER2013 faces, labels and splits held in memory as numpy arrays."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

import numpy as np

from edgefer.errors import EdgeferError

EMOTIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
# FER2013's Usage column -> our split names, in code order 0, 1, 2.
SPLITS = ("train", "val", "test")
USAGE_TO_SPLIT = {"Training": 0, "PublicTest": 1, "PrivateTest": 2}
IMAGE_SIZE = 48


@dataclass(frozen=True)
class FaceSet:
    """N gray 48x48 faces with integer labels, split codes and original row indices."""

    images: np.ndarray  # (N, 48, 48) uint8
    labels: np.ndarray  # (N,) int64, index into EMOTIONS
    splits: np.ndarray  # (N,) uint8, index into SPLITS
    rows: np.ndarray  # (N,) int64 row in the original fer2013.csv order, -1 when unknown
    source: str
    targets: np.ndarray | None = None  # (N, 7) float32 soft labels (FER+), else None
    skipped: int = 0  # malformed rows dropped under --skip-bad

    def __post_init__(self) -> None:
        n = len(self.images)
        if self.images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE) or self.images.dtype != np.uint8:
            raise ValueError(f"images must be (N, 48, 48) uint8, got {self.images.shape}")
        for name in ("labels", "splits", "rows"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"{name} has {len(getattr(self, name))} entries for {n} images")

    def __len__(self) -> int:
        return len(self.images)

    def select(self, index: np.ndarray) -> FaceSet:
        """The faces at a boolean mask or integer index array."""
        return replace(
            self,
            images=self.images[index],
            labels=self.labels[index],
            splits=self.splits[index],
            rows=self.rows[index],
            targets=None if self.targets is None else self.targets[index],
        )

    def split(self, *names: str) -> FaceSet:
        """The faces of one or more splits: 'train', 'val', 'test'."""
        for name in names:
            if name not in SPLITS:
                raise EdgeferError(f"unknown split {name!r}: choose one of {', '.join(SPLITS)}")
        return self.select(np.isin(self.splits, [SPLITS.index(n) for n in names]))

    def sample(self, n: int, seed: int = 0) -> FaceSet:
        """A class-stratified random subset of about n faces (every class kept)."""
        if n >= len(self):
            return self
        rng = np.random.default_rng(seed)
        picked = []
        for c in np.unique(self.labels):
            idx = np.flatnonzero(self.labels == c)
            k = max(1, round(n * len(idx) / len(self)))
            picked.append(rng.choice(idx, size=min(k, len(idx)), replace=False))
        return self.select(np.sort(np.concatenate(picked)))

    def counts(self) -> np.ndarray:
        """(3, 7) face counts per split and class."""
        out = np.zeros((len(SPLITS), len(EMOTIONS)), np.int64)
        np.add.at(out, (self.splits.astype(np.int64), self.labels), 1)
        return out

    def folds(self, k: int) -> np.ndarray:
        """Each face's cross-fitting fold in 0..k-1, from a hash of its pixels: the same in
        every run and data format, and one fold for all copies of a duplicated face."""
        if k < 2:
            raise EdgeferError(f"cross-fitting needs at least 2 folds, not {k}")
        return np.fromiter((int.from_bytes(hashlib.blake2b(img.tobytes(), digest_size=8)
                                           .digest(), "little") % k for img in self.images),
                           np.int64, len(self))

    def seen_in(self, other: FaceSet) -> np.ndarray:
        """Mask of faces whose exact pixels also occur in `other` (FER2013 has such duplicates)."""
        known = {img.tobytes() for img in other.images}
        return np.fromiter((img.tobytes() in known for img in self.images), bool, len(self))
