"""Tracked faces looked for again in one detector pass: the region around each expected box,
scaled so the face sits in YuNet's best band, tiled into a mosaic of equal cells.

A face a few metres from a camera is 48-64 px: a whole-frame pass at 640x480 finds it in
60-85% of frames; looked for in its region at about 140 px, it is kept in nearly every
frame, and the mosaic costs a 224x224 cell per face instead of the whole frame upscaled.
Chosen with `python benchmarks/video_recall.py` (video_recall_candidates.md, 640x480, 64 and
96 px faces): 192 px cells around 1.5 box sides kept 0.92 and 0.90 of them, 224 around 1.6
kept 1.00 and 0.95, 224 around 2.0 kept 1.00 and 0.82 (the face smaller in its cell), 256
around 1.6 kept 1.00 and 1.00 at 0.94x the frames per second; refinding at the full score
threshold kept 0.87 of the 96 px faces.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import NamedTuple

import cv2
import numpy as np

Box = tuple[int, int, int, int]
CELL = 224  # a cell's side in the detector's input, px (a multiple of YuNet's stride 32)
REGION = 1.6  # a region's side in face box sides: the face and its motion over a round
COLUMNS = 4  # cells per mosaic row
EDGE = 2  # px: a detection reaching further past its cell is a face cut by the cell edge
# Video rounds look for new faces (whole-frame searches) at this share of the detection score
# threshold (0.5 for the default 0.6) and a track found once must be found again in its
# region at the same share before it is established: a second sighting is the evidence a
# lower threshold needs, and a phantom seen once is dropped after its round. On val videos
# (benchmarks/video_recall_val.md, 640x480, 1, 4 and 8 faces) this kept 0.846 of 48 px faces
# and 0.928 of 64-200 px against 0.830 and 0.917 at the full threshold, for more false
# detections with one face (0.224 a frame against 0.180; 0.211 against 0.184 with four).
SEARCH = 5 / 6
# an established track is found again in its region at this share of the threshold
# (hysteresis: a face at the threshold is found in some frames, not all)
REFIND = 0.75
# A round that also searches the whole frame leaves to that pass each established face whose
# box is at least SEARCHED_PX in its input, so the mosaic holds only the faces too small for
# it; one the pass misses is coasted (Tracker.coast) and looked for in its region next round.
# On val videos (benchmarks/video_recall_val.md, 640x480) 64 kept 0.846 of 48 px faces and
# 0.928 of 64-200 px against 0.849 and 0.928 with every cell kept on those rounds, at 1.73x
# instead of 1.65x the steady frame rate of every-frame detection with four faces (1.49x
# instead of 1.32x with eight).
SEARCHED_PX = 64
XS, YS = [0, 4, 6, 8, 10, 12], [1, 5, 7, 9, 11, 13]  # a row's x and y coordinates


class Expected(NamedTuple):
    """Where a detection round looks for a tracked face: its box moved on to the frame, and
    whether its track is established (found in two or more rounds)."""

    box: Box
    established: bool


def refind_scores(expected: Sequence[Expected], threshold: float) -> list[float]:
    """The score each expected face must reach in its region, for a detection `threshold`."""
    return [threshold * (REFIND if e.established else SEARCH) for e in expected]


def left_to_search(expected: Sequence[Expected], scale: float) -> list[Expected]:
    """The expected faces a round must still look for in their regions when it also searches
    the whole frame scaled by `scale`: all but the established ones that pass finds."""
    return [e for e in expected
            if not (e.established and max(e.box[2:]) * scale >= SEARCHED_PX)]


def detect_regions(frame: np.ndarray, boxes: Sequence[Box],
                   detect: Callable[[np.ndarray], np.ndarray],
                   scores: Sequence[float] | None = None) -> np.ndarray:
    """Rows (x, y, w, h, 5 landmarks, score) in `frame`'s pixels of the faces `detect` (BGR
    image -> rows in its pixels) finds in the regions around `boxes`, one pass for all,
    each scoring at least its region's entry of `scores` (default: all `detect` returns).
    Faces cut by a cell's edge are dropped: the cell that holds them whole reports them."""
    if not boxes:
        return np.zeros((0, 15), np.float32)
    cols = min(len(boxes), COLUMNS)
    canvas = np.zeros((math.ceil(len(boxes) / cols) * CELL, cols * CELL, 3), np.uint8)
    placed = []  # (cell x, cell y, region x, region y, scale)
    for k, box in enumerate(boxes):
        cx, cy = (k % cols) * CELL, (k // cols) * CELL
        rx, ry, scale = _paste(frame, box, canvas[cy:cy + CELL, cx:cx + CELL])
        placed.append((cx, cy, rx, ry, scale))
    rows = detect(canvas)
    out = []
    for r in rows:
        col, row = int((r[0] + r[2] / 2) // CELL), int((r[1] + r[3] / 2) // CELL)
        if col >= cols or row * cols + col >= len(boxes):
            continue
        cx, cy, rx, ry, scale = placed[row * cols + col]
        if scores is not None and r[14] < scores[row * cols + col]:
            continue
        if (r[0] < cx - EDGE or r[1] < cy - EDGE or r[0] + r[2] > cx + CELL + EDGE
                or r[1] + r[3] > cy + CELL + EDGE):
            continue
        mapped = r.copy()
        mapped[XS] = (r[XS] - cx) / scale + rx
        mapped[YS] = (r[YS] - cy) / scale + ry
        mapped[2:4] = r[2:4] / scale
        out.append(mapped)
    return np.array(out, np.float32).reshape(-1, 15)


def _paste(frame: np.ndarray, box: Box, cell: np.ndarray) -> tuple[int, int, float]:
    """Scale the square region around `box` into `cell` (parts outside the frame stay
    black); its top-left corner in the frame and the scale."""
    x, y, w, h = box
    side = max(2, round(REGION * max(w, h)))
    rx, ry = round(x + w / 2 - side / 2), round(y + h / 2 - side / 2)
    scale = CELL / side
    fh, fw = frame.shape[:2]
    x0, y0, x1, y1 = max(rx, 0), max(ry, 0), min(rx + side, fw), min(ry + side, fh)
    if x1 > x0 and y1 > y0:
        dx0, dy0 = round((x0 - rx) * scale), round((y0 - ry) * scale)
        dx1, dy1 = round((x1 - rx) * scale), round((y1 - ry) * scale)
        if dx1 > dx0 and dy1 > dy0:
            cell[dy0:dy1, dx0:dx1] = cv2.resize(
                frame[y0:y1, x0:x1], (dx1 - dx0, dy1 - dy0),
                interpolation=cv2.INTER_LINEAR if scale > 1 else cv2.INTER_AREA)
    return rx, ry, scale
