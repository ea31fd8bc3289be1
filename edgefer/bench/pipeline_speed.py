"""End-to-end detect speed on a 640x480 MJPG video of real FER2013 faces (decode to
tracking): `edgefer bench`'s end-to-end table."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from edgefer.bench.records import PipelineSpeed
from edgefer.bench.videos import composite_video
from edgefer.runtime.defaults import DETECT
from edgefer.runtime.recognizer import Recognizer


def pipeline_speed(model: Path, detector: Path | None, faces: np.ndarray, threads: int,
                   frames: int = 300) -> PipelineSpeed:
    """`edgefer detect`'s default video settings (detection size, detection every
    DETECT.detect_every frames, tracking) over `frames` frames: mean milliseconds per frame for
    each stage, and end-to-end FPS."""
    recognizer = Recognizer(model, detector, threads=threads)
    stages: dict[str, list[float]] = {"decode": [], "detect": [], "classify": []}
    found = []
    with tempfile.TemporaryDirectory() as tmp:
        video = composite_video(faces, Path(tmp) / "faces.avi", frames)
        start = time.perf_counter()
        for result in recognizer.stream(str(video)):
            for stage, ms in stages.items():
                ms.append(result.time_ms[stage])
            found.append(len(result.faces))
        seconds = time.perf_counter() - start
    return PipelineSpeed(len(faces), statistics.median(found), threads, len(found),
                         len(found) / seconds, DETECT.detect_every,
                         **{f"{k}_ms": statistics.mean(v) for k, v in stages.items()})
