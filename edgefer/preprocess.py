"""The single preprocessing definition shared by training, evaluation, export and the runtime.

A `Preprocess` turns face crops (any size, gray/BGR/BGRA, 8 or 16 bit) into the float32
tensor a model takes. Its `to_dict()` is what an exported ONNX model stores in its metadata,
so a model file describes its own input.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import cv2
import numpy as np

from edgefer.errors import EdgeferError

LAYOUTS = ("NCHW", "NHWC")


@dataclass(frozen=True)
class Preprocess:
    """Resize, colour-convert, scale to `range`, then normalise with `mean`/`std`."""

    size: tuple[int, int] = (48, 48)  # (height, width)
    channels: int = 1  # 1 = grayscale, 3 = RGB
    layout: str = "NCHW"
    range: tuple[float, float] = (0.0, 1.0)
    # 128/255, not 0.5: grey level 128 becomes 0, so every uint8 level lands on the int8
    # input's grid (`uint8_grid`); the shipped models predate it and keep 0.5 in their files
    mean: tuple[float, ...] = (128 / 255,)
    std: tuple[float, ...] = (0.25,)

    def __post_init__(self) -> None:
        h, w = self.size
        if h < 8 or w < 8 or h > 1024 or w > 1024:
            raise EdgeferError(f"preprocess size {self.size} is outside 8..1024")
        if self.channels not in (1, 3):
            raise EdgeferError(f"preprocess channels must be 1 or 3, not {self.channels}")
        if self.layout not in LAYOUTS:
            raise EdgeferError(f"preprocess layout must be one of {LAYOUTS}, not {self.layout!r}")
        if len(self.mean) != self.channels or len(self.std) != self.channels:
            raise EdgeferError("preprocess mean and std need one value per channel")
        if any(not s > 0 for s in self.std) or not self.range[1] > self.range[0]:
            raise EdgeferError("preprocess std must be positive and range increasing")

    def uint8_grid(self) -> tuple[float, int] | None:
        """(step, zero) when every channel maps uint8 levels `step` apart with level `zero`
        at 0: quantizing the input with that scale and zero point then keeps each of the 256
        levels exactly. None otherwise (a mean of 0.5 puts 0 between levels 127 and 128, so
        the quantized input rounds half of the levels onto their neighbours)."""
        lo, hi = self.range
        steps = {(hi - lo) / 255 / s for s in self.std}
        zeros = [(m - lo) * 255 / (hi - lo) for m in self.mean]
        zero = round(zeros[0])
        if len(steps) > 1 or any(abs(z - zero) > 1e-6 for z in zeros) or not 0 <= zero <= 255:
            return None
        return steps.pop(), zero

    def affine_to(self, other: Preprocess) -> tuple[np.ndarray, np.ndarray] | None:
        """Per-channel (scale, shift) with other(faces) == scale * self(faces) + shift, when
        the two differ only in range, mean and std; None when size, colour or layout differ."""
        if (self.size, self.channels, self.layout) != (other.size, other.channels, other.layout):
            return None
        (lo, hi), (lo2, hi2) = self.range, other.range
        ratio = (hi2 - lo2) / (hi - lo)  # other's range per unit of this one's
        std, std2 = np.asarray(self.std), np.asarray(other.std)
        mean, mean2 = np.asarray(self.mean), np.asarray(other.mean)
        scale = ratio * std / std2
        shift = (lo2 - mean2 + ratio * (mean - lo)) / std2
        return scale.astype(np.float32), shift.astype(np.float32)

    def to_dict(self) -> dict:
        """JSON-ready description (stored in checkpoints and ONNX metadata)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: object) -> Preprocess:
        """Parse a description written by `to_dict`; raise EdgeferError when it is malformed."""
        if not isinstance(d, dict):
            raise EdgeferError("preprocess description must be a JSON object")
        try:
            return cls(
                size=(int(d["size"][0]), int(d["size"][1])),
                channels=int(d["channels"]),
                layout=str(d["layout"]),
                range=(float(d["range"][0]), float(d["range"][1])),
                mean=tuple(float(m) for m in d["mean"]),
                std=tuple(float(s) for s in d["std"]),
            )
        except (KeyError, IndexError, TypeError, ValueError, OverflowError) as e:
            raise EdgeferError(f"malformed preprocess description: {e!r}") from None

    def __call__(self, faces: np.ndarray | Sequence[np.ndarray]) -> np.ndarray:
        """Face crops -> float32 batch in this model's layout.

        `faces` is a (N, H, W) uint8 array or a sequence of images as OpenCV gives them.
        """
        if isinstance(faces, np.ndarray) and faces.ndim == 3 and faces.dtype == np.uint8 \
                and self.channels == 1 and faces.shape[1:] == self.size:
            batch = faces[..., None]  # already gray and sized: the training fast path
        else:
            batch = np.stack([self._fit(f) for f in faces]) if len(faces) else \
                np.zeros((0, *self.size, self.channels), np.uint8)
        lo, hi = self.range
        x = batch.astype(np.float32) * np.float32((hi - lo) / 255.0) + np.float32(lo)
        x = (x - np.asarray(self.mean, np.float32)) / np.asarray(self.std, np.float32)
        return np.ascontiguousarray(x.transpose(0, 3, 1, 2) if self.layout == "NCHW" else x)

    def _fit(self, img: np.ndarray) -> np.ndarray:
        """One image -> uint8 (H, W, C) of this spec's size and colour."""
        img = np.asarray(img)
        if img.dtype == np.uint16:
            img = (img >> 8).astype(np.uint8)
        elif img.dtype != np.uint8:
            raise EdgeferError(f"face crops must be 8- or 16-bit images, not {img.dtype}")
        if img.ndim == 3 and img.shape[2] == 1:
            img = img[:, :, 0]
        if img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[2] not in (3, 4)):
            raise EdgeferError(f"face crop of shape {img.shape} is not a gray, BGR or BGRA image")
        if min(img.shape[:2]) < 1:
            raise EdgeferError(f"face crop of shape {img.shape} is empty")
        if self.channels == 1 and img.ndim == 3:
            code = cv2.COLOR_BGR2GRAY if img.shape[2] == 3 else cv2.COLOR_BGRA2GRAY
            img = cv2.cvtColor(img, code)
        elif self.channels == 3:
            if img.ndim == 2:
                img = cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
            else:
                code = cv2.COLOR_BGR2RGB if img.shape[2] == 3 else cv2.COLOR_BGRA2RGB
                img = cv2.cvtColor(img, code)
        h, w = self.size
        if img.shape[:2] != (h, w):
            shrink = img.shape[0] > h or img.shape[1] > w
            interpolation = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
            img = cv2.resize(img, (w, h), interpolation=interpolation)
        return img.reshape(h, w, self.channels)
