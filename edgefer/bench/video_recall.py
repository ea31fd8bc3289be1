"""Recall, speed and track id stability of the video path on videos with known face boxes.

A face counts as found in a frame when a reported face lies mostly inside its true box
(`recall.finds`); an id switch is a face whose matched track id changes from the last frame
it was found in; a false detection is a reported face on no true box.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgefer.bench.recall import finds
from edgefer.bench.videos import TruthVideo
from edgefer.runtime.recognizer import Recognizer
from edgefer.runtime.results import FrameResult
from edgefer.runtime.tracker import Tracker


@dataclass
class VideoScore:
    """One setting on one video."""

    setting: str
    video: str
    size: tuple[int, int]
    faces: int  # faces in the video
    face_side: int
    frames: int = 0
    found: int = 0  # face-frames found
    total: int = 0  # face-frames
    found_per_face: list[int] = field(default_factory=list)  # frames each face was found in
    # whether YuNet finds each face alone on a plain canvas at its size (`recall.found_alone`):
    # a face it misses even there measures the detector and the crop, not the video path
    alone: list[bool] = field(default_factory=list)
    id_switches: int = 0
    false: int = 0
    seconds: list[float] = field(default_factory=list)  # wall time per pass
    # wall time per pass after the first frame (whose detection round searches the pyramid)
    steady_seconds: list[float] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.found / self.total if self.total else 0.0

    @property
    def fps(self) -> float:
        """Frames per second of the fastest pass (the least disturbed by other work)."""
        return self.frames / min(self.seconds) if self.seconds else 0.0

    @property
    def steady_fps(self) -> float:
        """Frames per second after the first frame, fastest pass: the rate a camera keeps."""
        return (self.frames - 1) / min(self.steady_seconds) if self.steady_seconds else 0.0

    @property
    def first_ms(self) -> float:
        """Milliseconds to the first frame's result, fastest pass: the stall a stream starts
        with."""
        return 1000 * min(a - b for a, b in zip(self.seconds, self.steady_seconds, strict=True)) \
            if self.seconds else 0.0


# a video's path, or its frames as an iterator of arrays -> results
Run = Callable[[Path | Iterator[np.ndarray]], Iterable[FrameResult]]


def every_frame(recognizer: Recognizer, det_size: int = 320) -> Run:
    """The former video path, as a reference: every frame's whole image detected at
    `det_size`, every face classified, tracked."""
    def run(source: Path | Iterator[np.ndarray]) -> Iterator[FrameResult]:
        tracker = Tracker(recognizer.labels, recognizer.smoothing)
        frames = recognizer.open(source)
        try:
            for i, frame in enumerate(frames):
                result = recognizer.pipeline(frame.image, frame.name, i, det_size)
                tracker.update(result.faces)
                yield result
        finally:
            frames.close()
    return run


def score_video(run: Run, video: TruthVideo, score: VideoScore) -> None:
    """Run `video` once through `run` (e.g. `Recognizer.stream`: decode to tracking), timing
    the pass; the first pass also counts recall, id switches and false detections."""
    first = not score.seconds
    last_id: dict[int, int] = {}
    start = time.perf_counter()
    results, first_done = [], start
    for result in run(video.path):
        results.append(result)
        if len(results) == 1:
            first_done = time.perf_counter()
    end = time.perf_counter()
    score.seconds.append(end - start)
    score.steady_seconds.append(end - first_done)
    if not first:
        return
    score.found_per_face = [0] * len(video.labels)
    for result, truth in zip(results, video.boxes, strict=True):
        score.frames += 1
        for j, box in enumerate(truth):
            score.total += 1
            hits = [f for f in result.faces if finds(f.box, box)]
            if not hits:
                continue
            score.found += 1
            score.found_per_face[j] += 1
            tid = max(hits, key=lambda f: f.score).track_id
            if j in last_id and last_id[j] != tid:
                score.id_switches += 1
            last_id[j] = tid
        score.false += sum(not any(finds(f.box, b) for b in truth) for f in result.faces)
