"""Seeded test videos for detection and tracking, written as MJPG .avi files.

`moving_faces`: FER2013 test faces of one size pasted on a real photo, each moving in its
own cell of the frame (so none overlap) at a seeded speed, bouncing off the cell's walls;
the true box of every face in every frame is known. `camera_pan`: a virtual camera panning
and zooming over a real photo (OpenCV's astronaut photo, or a mosaic of it), no truth.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edgefer.errors import BadArgumentError

Box = tuple[int, int, int, int]


@dataclass
class TruthVideo:
    """A video file and, per frame, each pasted face's true box (face order is fixed)."""

    path: Path
    size: tuple[int, int]  # width, height
    fps: float
    face_side: int
    boxes: list[list[Box]]
    labels: list[int]  # each face's FER2013 label index

    @property
    def frames(self) -> int:
        return len(self.boxes)


def write_video(path: Path, frames: list[np.ndarray], fps: float = 30.0) -> Path:
    """BGR frames as an MJPG .avi (a codec every OpenCV build reads and writes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    h, w = frames[0].shape[:2]
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
    for f in frames:
        out.write(f)
    out.release()
    return path


def grid(size: tuple[int, int], n: int, side: int, room: float = 1.4) -> tuple[int, int] | None:
    """Columns and rows of n equal cells in a frame of `size`, each at least `room` times
    the face side in both directions (space to move), or None when they do not fit."""
    w, h = size
    for cols in range(1, n + 1):
        rows = -(-n // cols)
        if w / cols >= room * side and h / rows >= room * side:
            return cols, rows
    return None


def moving_faces(faces: np.ndarray, labels: np.ndarray, background: np.ndarray, n: int,
                 side: int, path: Path, *, size: tuple[int, int] = (640, 480),
                 frames: int = 150, fps: float = 30.0, speed: tuple[float, float] = (1.0, 3.0),
                 seed: int = 0) -> TruthVideo:
    """`n` of the gray 48x48 `faces` (picked with `seed`) at `side` pixels over `background`,
    each moving at `speed` pixels per frame (seeded direction) inside its grid cell."""
    cells = grid(size, n, side)
    if cells is None:
        raise BadArgumentError(f"{n} faces of {side} px do not fit a {size[0]}x{size[1]} frame")
    rng = np.random.default_rng(seed)
    cols, rows = cells
    cw, ch = size[0] // cols, size[1] // rows
    picks = rng.choice(len(faces), n, replace=False)
    pasted = [cv2.resize(faces[k], (side, side), interpolation=cv2.INTER_CUBIC
                         if side > 48 else cv2.INTER_AREA)[..., None] for k in picks]
    pos = np.array([[i % cols * cw + rng.uniform(0, cw - side),
                     i // cols * ch + rng.uniform(0, ch - side)] for i in range(n)])
    angle = rng.uniform(0, 2 * np.pi, n)
    vel = rng.uniform(*speed, n)[:, None] * np.stack([np.cos(angle), np.sin(angle)], 1)
    lo = np.array([[i % cols * cw, i // cols * ch] for i in range(n)], float)
    hi = lo + np.array([cw - side, ch - side])
    base = cv2.resize(background, size, interpolation=cv2.INTER_AREA)
    images, boxes = [], []
    for _ in range(frames):
        img = base.copy()
        frame_boxes = []
        for (x, y), face in zip(np.round(pos).astype(int), pasted, strict=True):
            img[y:y + side, x:x + side] = face
            frame_boxes.append((int(x), int(y), side, side))
        images.append(img)
        boxes.append(frame_boxes)
        pos += vel
        bounce = (pos < lo) | (pos > hi)
        vel[bounce] *= -1
        pos = np.clip(pos, lo, hi)
    return TruthVideo(write_video(path, images, fps), size, fps, side, boxes,
                      [int(labels[k]) for k in picks])


def camera_pan(photo: np.ndarray, path: Path, *, focus: tuple[float, float] | None = None,
               frames: int = 300, size: tuple[int, int] = (640, 480),
               fps: float = 30.0) -> Path:
    """A 4:3 window panning around `focus` (default: the photo's centre) and zooming in and
    out (1x to 1.4x) over the photo, each view scaled to `size`."""
    h, w = photo.shape[:2]
    fx, fy = focus or (w / 2, h / 2)
    images = []
    for t in range(frames):
        zoom = 1.2 - 0.2 * np.cos(2 * np.pi * t / 200)
        ww = min(w, h * 4 / 3) / zoom
        wh = ww * 3 / 4
        cx = np.clip(fx + 0.15 * w * np.sin(2 * np.pi * t / 130), ww / 2, w - ww / 2)
        cy = np.clip(fy + 0.1 * h * np.sin(2 * np.pi * t / 170 + 1), wh / 2, h - wh / 2)
        s = size[0] / ww
        m = np.float32([[s, 0, -s * (cx - ww / 2)], [0, s, -s * (cy - wh / 2)]])
        images.append(cv2.warpAffine(photo, m, size, flags=cv2.INTER_LINEAR))
    return write_video(path, images, fps)
