"""End-to-end detect speed on a 640x480 video of real FER2013 faces (decode to tracking)."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from edgefer.bench.composite import composite_frame
from edgefer.bench.records import PipelineSpeed
from edgefer.runtime import EmotionClassifier
from edgefer.runtime.face_detector import FaceDetector
from edgefer.runtime.pipeline import EmotionPipeline
from edgefer.runtime.sources import FrameSource
from edgefer.runtime.tracker import Tracker


def write_video(faces: np.ndarray, path: Path, frames: int) -> None:
    """An mp4 of the faces composited into 640x480 frames, swaying sideways."""
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30, (640, 480))
    for t in range(frames):
        out.write(composite_frame(faces, int(8 * np.sin(t / 5))))
    out.release()


def pipeline_speed(model: Path, detector: Path | None, faces: np.ndarray, threads: int,
                   frames: int = 300) -> PipelineSpeed:
    """Median per-stage milliseconds and end-to-end FPS over `frames` frames."""
    cv2.setNumThreads(threads)
    clf = EmotionClassifier(model, threads=threads)
    pipeline = EmotionPipeline(clf, FaceDetector(detector))
    tracker = Tracker(clf.labels)
    stages: dict[str, list[float]] = {"decode": [], "detect": [], "classify": []}
    found = []
    with tempfile.TemporaryDirectory() as tmp:
        video = Path(tmp) / "faces.mp4"
        write_video(faces, video, frames)
        start = time.perf_counter()
        for frame in FrameSource(str(video)):
            result = pipeline(frame.image)
            tracker.update(result.faces)
            stages["decode"].append(frame.decode_ms)
            stages["detect"].append(result.time_ms["detect"])
            stages["classify"].append(result.time_ms["classify"])
            found.append(len(result.faces))
        seconds = time.perf_counter() - start
    return PipelineSpeed(len(faces), statistics.median(found), threads, len(found),
                         len(found) / seconds,
                         **{f"{k}_ms": statistics.median(v) for k, v in stages.items()})
