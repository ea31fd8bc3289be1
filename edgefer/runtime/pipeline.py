"""One frame in, faces with emotions out: detect, crop, classify, timed per stage."""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from edgefer.runtime import regions
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
        else:
            faces = self.detector(frame, det_size)
        return self._classify(frame, faces, source, index, t0)

    def detect(self, frame: np.ndarray, sizes: Sequence[int],
               around: Sequence[regions.Expected] = (), source: str = "",
               index: int = 0) -> FrameResult:
        """Faces and emotions of one video frame, found on the whole frame at each of `sizes`
        and where tracked faces are expected (`FaceDetector.detect`)."""
        t0 = time.perf_counter()
        faces = self.detector.detect(frame, sizes, around, regions.SEARCH)
        return self._classify(frame, faces, source, index, t0)

    def _classify(self, frame: np.ndarray, faces: list[Face], source: str, index: int,
                  t0: float) -> FrameResult:
        """Emotions of the given faces of one frame; the "detect" time counts from `t0`."""
        crops = [face_crop(frame, f, self.margin, self.align) if self.detector else frame
                 for f in faces]
        t1 = time.perf_counter()
        predictions = self.classifier.predict_batch(crops)
        t2 = time.perf_counter()
        results = [FaceResult(f.box, f.score, p.emotion, p.confidence, p.probs, f.landmarks)
                   for f, p in zip(faces, predictions, strict=True)]
        return FrameResult(frame, results, self.classifier.labels, source, index,
                           {"detect": (t1 - t0) * 1000, "classify": (t2 - t1) * 1000})
