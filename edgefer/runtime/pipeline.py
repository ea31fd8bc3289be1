"""One frame in, faces with emotions out: detect, crop, classify, timed per stage."""

from __future__ import annotations

import time

import numpy as np

from edgefer.runtime.classifier import EmotionClassifier
from edgefer.runtime.crop import face_crop
from edgefer.runtime.face_detector import Face, FaceDetector
from edgefer.runtime.results import FaceResult, FrameResult


class EmotionPipeline:
    """Detector (or whole frame when None) -> aligned crops -> one batched classification."""

    def __init__(self, classifier: EmotionClassifier, detector: FaceDetector | None,
                 margin: float = 0.0, align: bool = True) -> None:
        self.classifier, self.detector = classifier, detector
        self.margin, self.align = margin, align

    def __call__(self, frame: np.ndarray, source: str = "", index: int = 0,
                 det_size: int | None = None) -> FrameResult:
        """Faces and emotions of one frame, detected at `det_size` (see `FaceDetector`;
        default: the detector's own)."""
        t0 = time.perf_counter()
        if self.detector is None:
            h, w = frame.shape[:2]
            faces = [Face((0, 0, w, h), np.zeros((5, 2), np.float32), 1.0)]
            crops = [frame]
        else:
            faces = self.detector(frame, det_size)
            crops = [face_crop(frame, f, self.margin, self.align) for f in faces]
        return self._classify(frame, faces, crops, source, index, t0)

    def classify(self, frame: np.ndarray, faces: list[Face], source: str = "",
                 index: int = 0) -> FrameResult:
        """Emotions of the given faces of one frame (e.g. boxes a tracker carried forward),
        without detecting: the "detect" time is only the cropping."""
        t0 = time.perf_counter()
        crops = [face_crop(frame, f, self.margin, self.align) for f in faces]
        return self._classify(frame, faces, crops, source, index, t0)

    def _classify(self, frame: np.ndarray, faces: list[Face], crops: list[np.ndarray],
                  source: str, index: int, t0: float) -> FrameResult:
        t1 = time.perf_counter()
        predictions = self.classifier.predict_batch(crops)
        t2 = time.perf_counter()
        results = [FaceResult(f.box, f.score, p.emotion, p.confidence, p.probs, f.landmarks)
                   for f, p in zip(faces, predictions, strict=True)]
        return FrameResult(frame, results, self.classifier.labels, source, index,
                           {"detect": (t1 - t0) * 1000, "classify": (t2 - t1) * 1000})
