"""Recall, speed and track id stability of the video path on videos with known face boxes.

A face counts as found in a frame when a reported face lies mostly inside its true box
(`recall.finds`); an id switch is a face whose matched track id changes from the last frame
it was found in; a false detection is a reported face on no true box.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from edgefer.bench.recall import finds
from edgefer.bench.videos import TruthVideo
from edgefer.runtime.recognizer import Recognizer


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
    id_switches: int = 0
    false: int = 0
    seconds: list[float] = field(default_factory=list)  # wall time per pass

    @property
    def recall(self) -> float:
        return self.found / self.total if self.total else 0.0

    @property
    def fps(self) -> float:
        """Frames per second of the fastest pass (the least disturbed by other work)."""
        return self.frames / min(self.seconds) if self.seconds else 0.0


def score_video(recognizer: Recognizer, video: TruthVideo, score: VideoScore) -> None:
    """Run `video` once through `recognizer.stream` (decode to tracking), timing the pass;
    the first pass also counts recall, id switches and false detections."""
    first = not score.seconds
    last_id: dict[int, int] = {}
    start = time.perf_counter()
    results = list(recognizer.stream(video.path))
    score.seconds.append(time.perf_counter() - start)
    if not first:
        return
    for result, truth in zip(results, video.boxes, strict=True):
        score.frames += 1
        for j, box in enumerate(truth):
            score.total += 1
            hits = [f for f in result.faces if finds(f.box, box)]
            if not hits:
                continue
            score.found += 1
            tid = max(hits, key=lambda f: f.score).track_id
            if j in last_id and last_id[j] != tid:
                score.id_switches += 1
            last_id[j] = tid
        score.false += sum(not any(finds(f.box, b) for b in truth) for f in result.faces)
