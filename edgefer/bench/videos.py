"""The synthetic test videos of the benchmarks and tests, all written by `write_video` as
MJPG .avi files (a codec every OpenCV build reads and writes).

`moving_faces`: FER2013 test faces of one size pasted on a real photo, each moving in its
own cell of the frame (so none overlap) at a seeded speed, bouncing off the cell's walls;
the true box of every face in every frame is known. `back_and_forth`: 1 or 4 faces of
120 px going back and forth and up and down over a photo along fixed paths, boxes known.
`composite_video`: up to 4 faces of 180 px on a plain wall, swaying sideways (`edgefer
bench`'s end-to-end video). `camera_pan`: a virtual camera panning and zooming over a real
photo (the astronaut photo, or a mosaic of it), no truth.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edgefer.bench.composite import composite_frame
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
    picks: list[int]  # each face's index in the faces it was picked from

    @property
    def frames(self) -> int:
        return len(self.boxes)


def write_video(path: Path, frames: Iterable[np.ndarray], fps: float = 30.0) -> Path:
    """BGR frames (all of the first one's size; a generator keeps one in memory at a time)
    as an MJPG video at `path`, an .avi."""
    if path.suffix.lower() != ".avi":
        raise BadArgumentError(f"{path}: the test videos are MJPG in .avi files")
    frames = iter(frames)
    first = next(frames, None)
    if first is None:
        raise BadArgumentError(f"{path}: a video needs at least one frame")
    path.parent.mkdir(parents=True, exist_ok=True)
    h, w = first.shape[:2]
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
    try:
        out.write(first)
        for f in frames:
            out.write(f)
    finally:
        out.release()
    return path


def composite_video(faces: np.ndarray, path: Path, frames: int = 300,
                    fps: float = 30.0) -> Path:
    """Up to 4 gray 48x48 `faces` composited into 640x480 frames (`composite_frame`),
    swaying 8 px either way."""
    return write_video(path, (composite_frame(faces, int(8 * np.sin(t / 5)))
                              for t in range(frames)), fps)


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
    boxes: list[list[Box]] = []

    def images() -> Iterator[np.ndarray]:
        nonlocal pos
        for _ in range(frames):
            img = base.copy()
            frame_boxes = []
            for (x, y), face in zip(np.round(pos).astype(int), pasted, strict=True):
                img[y:y + side, x:x + side] = face
                frame_boxes.append((int(x), int(y), side, side))
            boxes.append(frame_boxes)
            yield img
            pos += vel
            bounce = (pos < lo) | (pos > hi)
            vel[bounce] *= -1
            pos = np.clip(pos, lo, hi)

    written = write_video(path, images(), fps)
    return TruthVideo(written, size, fps, side, boxes, [int(labels[k]) for k in picks],
                      [int(k) for k in picks])


# the centres the faces of `back_and_forth` move about, in a 640x480 frame
PACED_CENTRES = {1: [(320, 240)], 4: [(170, 130), (470, 130), (170, 350), (470, 350)]}


def triangle(s: float, amplitude: float) -> float:
    """A wave in [-amplitude, amplitude] moving one unit per unit of `s`, back and forth."""
    return amplitude - abs((s + amplitude) % (4 * amplitude) - 2 * amplitude)


def back_and_forth(faces: np.ndarray, labels: np.ndarray, background: np.ndarray, n: int,
                   path: Path, *, frames: int = 300, side: int = 120,
                   fps: float = 30.0) -> TruthVideo:
    """The first `n` (1 or 4) of the gray 48x48 `faces` at `side` px over `background` in
    640x480 frames, each going back and forth at 3 px a frame (150 px either way alone, 60
    among four) and up and down on a sine (30 px either way, up to 2 px a frame)."""
    if n not in PACED_CENTRES:
        raise BadArgumentError(f"back_and_forth takes 1 or 4 faces, not {n}")
    size = (640, 480)
    base = cv2.resize(background, size, interpolation=cv2.INTER_AREA)
    pasted = [cv2.resize(f, (side, side), interpolation=cv2.INTER_CUBIC)[..., None]
              for f in faces[:n]]
    swing = 60 if n == 4 else 150
    boxes = [[(round(cx + triangle(3 * t + 25 * j, swing) - side / 2),
               round(cy + 30 * np.sin(2 * np.pi * t / 90 + j) - side / 2), side, side)
              for j, (cx, cy) in enumerate(PACED_CENTRES[n])] for t in range(frames)]

    def images() -> Iterator[np.ndarray]:
        for frame_boxes in boxes:
            img = base.copy()
            for (x, y, _, _), face in zip(frame_boxes, pasted, strict=True):
                img[y:y + side, x:x + side] = face
            yield img

    return TruthVideo(write_video(path, images(), fps), size, fps, side, boxes,
                      [int(v) for v in labels[:n]], list(range(n)))


def camera_pan(photo: np.ndarray, path: Path, *, focus: tuple[float, float] | None = None,
               frames: int = 300, size: tuple[int, int] = (640, 480),
               fps: float = 30.0) -> Path:
    """A 4:3 window panning around `focus` (default: the photo's centre) and zooming in and
    out (1x to 1.4x) over the photo, each view scaled to `size`."""
    h, w = photo.shape[:2]
    fx, fy = focus or (w / 2, h / 2)

    def view(t: int) -> np.ndarray:
        zoom = 1.2 - 0.2 * np.cos(2 * np.pi * t / 200)
        ww = min(w, h * 4 / 3) / zoom
        wh = ww * 3 / 4
        cx = np.clip(fx + 0.15 * w * np.sin(2 * np.pi * t / 130), ww / 2, w - ww / 2)
        cy = np.clip(fy + 0.1 * h * np.sin(2 * np.pi * t / 170 + 1), wh / 2, h - wh / 2)
        s = size[0] / ww
        m = np.float32([[s, 0, -s * (cx - ww / 2)], [0, s, -s * (cy - wh / 2)]])
        return cv2.warpAffine(photo, m, size, flags=cv2.INTER_LINEAR)

    return write_video(path, (view(t) for t in range(frames)), fps)
