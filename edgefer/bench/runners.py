"""One interface over everything the benchmark runs: edgefer ONNX models on each backend, a
PyTorch checkpoint, and the peer models (their own preprocessing and label order)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edgefer.classifiers import open_classifier
from edgefer.errors import EdgeferError
from edgefer.preprocess import Preprocess
from edgefer.runtime.backends import open_session

# FER2013 order angry, disgust, fear, happy, sad, surprise, neutral, read from a peer's output.
ALPHABETICAL_TO_FER = [0, 1, 2, 3, 5, 6, 4]  # peer order ..., happy, neutral, sad, surprised
# OpenCV Zoo's 112x112 five-point template: eyes, nose, mouth corners.
MFN_TEMPLATE = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                         [41.5493, 92.3655], [70.7299, 92.2041]], np.float32)


@dataclass(frozen=True)
class Candidate:
    """A model file and the backend to run it on."""

    name: str
    path: Path
    backend: str  # ort-cpu, ort-cuda, opencv, torch
    kind: str  # edgefer, checkpoint, xception, mobilefacenet
    precision: str

    @property
    def label(self) -> str:
        return f"{self.name} ({self.backend})"


@dataclass
class Runner:
    """prepare: 48x48 gray faces -> model input; run: input -> FER2013-order probabilities."""

    prepare: Callable[[np.ndarray], np.ndarray]
    run: Callable[[np.ndarray], np.ndarray]
    fixed_batch: int | None = None


def peer_candidates(models_dir: Path) -> list[Candidate]:
    """The peer models present in `models_dir` (OpenCV Zoo FER, the fer package's Xceptions)."""
    known = [("fer mini-Xception", "fer_mini_xception_fer2013.onnx", "xception", "fp32"),
             ("fer big-Xception", "fer2013_big_xception.onnx", "xception", "fp32"),
             ("OpenCV Zoo FER", "facial_expression_recognition_mobilefacenet_2022july_int8.onnx",
              "mobilefacenet", "int8")]
    return [Candidate(name, models_dir / f, "ort-cpu", kind, precision)
            for name, f, kind, precision in known if (models_dir / f).is_file()]


def open_runner(c: Candidate, threads: int, detector: Path | None = None) -> Runner:
    """Load a candidate for `threads` inference threads."""
    if c.kind in ("edgefer", "checkpoint"):
        clf = open_classifier(c.path, threads,
                              backend=c.backend if c.kind == "edgefer" else "auto")
        return Runner(clf.preprocess, clf.run_tensor)
    session = open_session(c.path, "ort-cpu", threads)
    name = session.get_inputs()[0].name
    if c.kind == "xception":  # NHWC gray 64x64, (x/255 - 0.5) * 2, softmax in FER2013 order
        spec = Preprocess(size=(64, 64), channels=1, layout="NHWC", range=(0.0, 1.0),
                          mean=(0.5,), std=(0.5,))
        return Runner(spec, lambda x: session.run(None, {name: x})[0])
    if c.kind == "mobilefacenet":
        align = _MobileFaceNetAlign(detector)

        def run(x: np.ndarray) -> np.ndarray:
            logits = np.concatenate([session.run(None, {name: x[i:i + 1]})[0]
                                     for i in range(len(x))])
            e = np.exp(logits - logits.max(1, keepdims=True))
            return (e / e.sum(1, keepdims=True))[:, ALPHABETICAL_TO_FER]

        return Runner(align, run, fixed_batch=1)
    raise EdgeferError(f"unknown candidate kind {c.kind!r}")


class _MobileFaceNetAlign:
    """OpenCV Zoo's pipeline for its FER model: YuNet landmarks on the upscaled face, a
    similarity transform to the 112x112 template, RGB scaled to [-1, 1]. Faces where YuNet
    finds nothing are resized whole (counted in `fallbacks`)."""

    def __init__(self, detector: Path | None) -> None:
        from edgefer.runtime.face_detector import FaceDetector

        self.detector = FaceDetector(detector, score_threshold=0.3, min_face=8,
                                     det_size=240)  # the padded face as it is
        self.fallbacks = 0

    def __call__(self, faces: np.ndarray) -> np.ndarray:
        out = np.empty((len(faces), 3, 112, 112), np.float32)
        for i, face in enumerate(faces):
            big = cv2.cvtColor(cv2.resize(face, (160, 160), interpolation=cv2.INTER_CUBIC),
                               cv2.COLOR_GRAY2BGR)
            found = self.detector(cv2.copyMakeBorder(big, 40, 40, 40, 40, cv2.BORDER_REPLICATE))
            if found:
                best = max(found, key=lambda f: f.score)
                m, _ = cv2.estimateAffinePartial2D(best.landmarks - 40, MFN_TEMPLATE,
                                                   method=cv2.LMEDS)
            if not found or m is None:
                self.fallbacks += 1
                crop = cv2.resize(big, (112, 112), interpolation=cv2.INTER_AREA)
            else:
                crop = cv2.warpAffine(big, m, (112, 112))
            rgb = cv2.cvtColor(crop, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0
            out[i] = ((rgb - 0.5) / 0.5).transpose(2, 0, 1)
        return out
