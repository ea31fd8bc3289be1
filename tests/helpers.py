"""Helpers shared by test files: run histories, videos, result builders."""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np

from edgefer.bench.videos import write_video
from edgefer.runtime.results import FaceResult


def history(run: Path) -> list[dict]:
    """A training run's metrics.csv rows."""
    with (run / "metrics.csv").open() as f:
        return list(csv.DictReader(f))


def count_frames(path: Path) -> int:
    """Frames OpenCV can read back from a video file."""
    cap = cv2.VideoCapture(str(path))
    n = 0
    while cap.read()[0]:
        n += 1
    return n


def mjpg_video(path: Path, frames: list[np.ndarray], fps: float = 30) -> None:
    """Write BGR frames as an MJPG video."""
    write_video(path, frames, fps)


def face_result(box: tuple[int, int, int, int], probs: dict[str, float]) -> FaceResult:
    """A detected face whose emotion is the most probable label of `probs`."""
    emotion = max(probs, key=probs.get)
    return FaceResult(box=box, score=0.9, emotion=emotion, confidence=probs[emotion],
                      probs=dict(probs))
