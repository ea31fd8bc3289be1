"""`FaceDetector`: YuNet through `cv2.FaceDetectorYN` or onnxruntime.

The YuNet file (OpenCV Zoo's, MIT, 232 KB) ships inside the package with its licence, so a
device needs no network: `--detector PATH` / `$EDGEFER_DETECTOR` only override it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edgefer.errors import BadArgumentError, EdgeferError, MissingFileError
from edgefer.runtime import regions
from edgefer.runtime.assets import YUNET
from edgefer.runtime.defaults import DETECT, VIDEO_DET_MAX, VIDEO_DET_MIN, VIDEO_FACE_PX
from edgefer.runtime.yunet import OrtYuNet, suppress


@dataclass(frozen=True)
class Face:
    """One detection: box (x, y, w, h) in pixels, 5 landmarks (right eye, left eye, nose,
    right and left mouth corner) and the detector's score."""

    box: tuple[int, int, int, int]
    landmarks: np.ndarray  # (5, 2) float32
    score: float


def resolve_detector(path: str | Path | None = None) -> Path:
    """The YuNet file: `path`, else $EDGEFER_DETECTOR, else the one shipped in the package."""
    given = path or os.environ.get("EDGEFER_DETECTOR")
    p = Path(given).expanduser() if given else YUNET
    if not p.is_file():
        raise MissingFileError(f"face detector model not found: {p}")
    return p


class OpenCVYuNet:
    """YuNet through `cv2.FaceDetectorYN` on OpenCV's global thread pool: BGR image -> (N, 15)
    float32 rows (x, y, w, h, 5 landmarks, score), best first."""

    def __init__(self, path: Path, score_threshold: float, nms_threshold: float, top_k: int,
                 threads: int | None = None) -> None:
        # OpenCV 5 warns on every create that its new DNN engine ignores targets: harmless.
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
        if threads:
            cv2.setNumThreads(threads)
        try:
            self._net = cv2.FaceDetectorYN.create(str(path), "", (320, 320), score_threshold,
                                                  nms_threshold, top_k)
        except cv2.error as e:
            raise EdgeferError(f"{path}: not a YuNet face detector model "
                               f"({str(e).strip().splitlines()[-1][:120]})") from None
        self._size, self.score_threshold = (320, 320), score_threshold

    def __call__(self, image: np.ndarray, score_threshold: float | None = None) -> np.ndarray:
        """Faces scoring at least `score_threshold` (default: the detector's)."""
        size = (image.shape[1], image.shape[0])
        if size != self._size:
            self._net.setInputSize(size)
            self._size = size
        self._net.setScoreThreshold(self.score_threshold if score_threshold is None
                                    else score_threshold)
        rows = self._net.detect(image)[1]
        return np.zeros((0, 15), np.float32) if rows is None else rows


ENGINES = {"opencv": OpenCVYuNet, "ort": OrtYuNet}


# YuNet finds a face reliably when it is about 128 to 384 px tall in its input (>= 0.95 of
# FER2013 test faces on a plain canvas, `python benchmarks/recall.py`, "band" table; 0.80 at
# 64 px, 0.43 at 768 px). So a still image is detected on a pyramid of levels PYRAMID_STEP
# apart, each level covering the next band of face sizes: the largest level at
# PYRAMID_UPSCALE times the image (faces down to 64 px), its longer side at most PYRAMID_CAP
# (time and memory); the smallest once a face as tall as the image fits in the band.
PYRAMID_UPSCALE = 2.0
PYRAMID_CAP = 3200
PYRAMID_STEP = 3.0
BAND_TOP = 384


def pyramid(height: int, width: int, upscale: float = PYRAMID_UPSCALE) -> tuple[int, ...]:
    """Detection sizes (longer side, largest first) that put every face size of a
    `height` x `width` image from about 128 / `upscale` px (64 px by default) up to the
    whole image in YuNet's band."""
    long_side, short_side = max(height, width), min(height, width)
    sizes = [max(32, min(round(upscale * long_side), PYRAMID_CAP))]
    while sizes[-1] * short_side / long_side > BAND_TOP and sizes[-1] / PYRAMID_STEP >= 32:
        sizes.append(round(sizes[-1] / PYRAMID_STEP))
    return tuple(sizes)


class FaceDetector:
    """Finds faces in BGR frames of any size.

    `det_size` is the longer side a frame is scaled to (down or up) for one detection pass;
    None detects on a `pyramid` of sizes and merges the levels (every face size of a photo,
    at about 1.2x the time of its largest level). `engine` runs YuNet through OpenCV
    ("opencv", on OpenCV's global thread pool) or onnxruntime ("ort", which also runs an
    int8 YuNet); both give the same faces. `threads` sets the engine's threads (for
    "opencv", OpenCV's process-wide count).
    """

    def __init__(self, path: str | Path | None = None, score_threshold: float = DETECT.score,
                 nms_threshold: float = 0.3, min_face: int = DETECT.min_face, top_k: int = 100,
                 det_size: int | None = None, *, engine: str = "ort",
                 threads: int | None = None) -> None:
        if engine not in ENGINES:
            raise BadArgumentError(f"unknown face detector engine {engine!r}: choose one of "
                               f"{', '.join(ENGINES)}")
        if threads is not None and threads < 1:
            raise BadArgumentError(f"threads must be at least 1, not {threads}")
        self.path = resolve_detector(path)
        if not 0 < score_threshold < 1:
            raise BadArgumentError(f"score threshold must be in (0, 1), not {score_threshold}")
        if min_face < 1:
            raise BadArgumentError(f"min face size must be at least 1 pixel, not {min_face}")
        check_det_size(det_size)
        self.min_face, self.det_size, self.engine = min_face, det_size, engine
        self.score_threshold, self._nms = score_threshold, (nms_threshold, top_k)
        self._detect = ENGINES[engine](self.path, score_threshold, nms_threshold, top_k, threads)

    def __call__(self, frame: np.ndarray, det_size: int | None = None) -> list[Face]:
        """Faces in a BGR frame, best first, detected at `det_size` (default: the
        detector's own; None for both: the frame's pyramid)."""
        det_size = self.det_size if det_size is None else det_size
        check_det_size(det_size)
        return self.detect(frame, (det_size,) if det_size else pyramid(*frame.shape[:2]))

    def detect(self, frame: np.ndarray, sizes: Sequence[int],
               around: Sequence[regions.Expected] = (), share: float = 1.0) -> list[Face]:
        """Faces in a BGR frame, best first: the whole frame scaled to each of `sizes`
        (longer sides) at `share` of the score threshold (video: `regions.SEARCH`), and the
        region around each face of `around` (where a tracked face is expected, see
        `regions`; with `sizes`, the established ones that pass finds are left to it),
        merged."""
        h, w = frame.shape[:2]
        if sizes:
            around = regions.left_to_search(around, max(sizes) / max(h, w))
        scores = regions.refind_scores(around, self.score_threshold)
        levels = [regions.detect_regions(frame, [e.box for e in around],
                                         lambda image: self._detect(image, min(scores)),
                                         scores)]
        for size in sizes:
            scaled, scale = rescale(frame, size)
            rows = self._detect(scaled, self.score_threshold * share).copy()
            rows[:, :14] /= scale
            levels.append(rows)
        rows = suppress(np.concatenate(levels), 0.0, *self._nms)
        faces = []
        for r in rows:
            x0, y0 = max(0, round(r[0])), max(0, round(r[1]))
            x1, y1 = min(w, round(r[0] + r[2])), min(h, round(r[1] + r[3]))
            if min(x1 - x0, y1 - y0) >= self.min_face * MIN_BOX:
                faces.append(Face((x0, y0, x1 - x0, y1 - y0),
                                  r[4:14].reshape(5, 2).astype(np.float32), float(r[14])))
        return faces


# YuNet's box is tighter than the face (brow to chin), and a face of `min_face` pixels may
# get a box a fifth smaller: boxes under this share of `min_face` are dropped.
MIN_BOX = 0.5


def video_det_size(width: int, height: int, min_face: int) -> int:
    """The detection size (longer side) for video frames of `width` x `height` that puts a
    face of `min_face` pixels at VIDEO_FACE_PX in the detector's input, kept within
    [VIDEO_DET_MIN, VIDEO_DET_MAX] (the largest costs about 10x the smallest)."""
    side = round(max(width, height) * VIDEO_FACE_PX / min_face / 32) * 32
    return min(max(side, VIDEO_DET_MIN), VIDEO_DET_MAX)


def check_det_size(det_size: int | None) -> None:
    """A detection size is None (the pyramid) or at least 32 pixels."""
    if det_size is not None and det_size < 32:
        raise BadArgumentError(f"detection size must be at least 32 pixels, not {det_size}")


def rescale(frame: np.ndarray, side: int) -> tuple[np.ndarray, float]:
    """The frame scaled (down or up) to a longer side of `side` pixels, and the scale."""
    h, w = frame.shape[:2]
    scale = side / max(h, w)
    if scale == 1.0:
        return frame, scale
    return cv2.resize(frame, (max(1, round(w * scale)), max(1, round(h * scale))),
                      interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR), scale
