"""One frame in, faces with emotions out: detect, crop, classify, timed per stage."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import numpy as np

from edgefer.runtime.classifier import EmotionClassifier
from edgefer.runtime.crop import face_crop
from edgefer.runtime.face_detector import Face, FaceDetector


@dataclass
class FaceResult:
    """A detected face and its emotion."""

    box: tuple[int, int, int, int]
    score: float
    emotion: str
    confidence: float
    probs: dict[str, float]
    track_id: int | None = None


@dataclass
class FrameResult:
    """All faces of one frame and the milliseconds each stage took."""

    faces: list[FaceResult]
    time_ms: dict[str, float] = field(default_factory=dict)

    def to_json(self, frame: int) -> dict:
        return {"frame": frame, "time_ms": {k: round(v, 3) for k, v in self.time_ms.items()},
                "faces": [asdict(f) for f in self.faces]}


class EmotionPipeline:
    """Detector (or whole frame when None) -> aligned crops -> one batched classification."""

    def __init__(self, classifier: EmotionClassifier, detector: FaceDetector | None,
                 margin: float = 0.0, align: bool = True) -> None:
        self.classifier, self.detector = classifier, detector
        self.margin, self.align = margin, align

    def __call__(self, frame: np.ndarray) -> FrameResult:
        t0 = time.perf_counter()
        if self.detector is None:
            h, w = frame.shape[:2]
            faces = [Face((0, 0, w, h), np.zeros((5, 2), np.float32), 1.0)]
            crops = [frame]
        else:
            faces = self.detector(frame)
            crops = [face_crop(frame, f, self.margin, self.align) for f in faces]
        t1 = time.perf_counter()
        predictions = self.classifier(crops)
        t2 = time.perf_counter()
        results = [FaceResult(f.box, round(f.score, 4), p.label, round(p.confidence, 4),
                              {k: round(v, 4) for k, v in p.probs.items()})
                   for f, p in zip(faces, predictions, strict=True)]
        return FrameResult(results, {"detect": (t1 - t0) * 1000, "classify": (t2 - t1) * 1000})
