"""edgefer: facial emotion recognition from FER2013 training to int8 ONNX on small CPUs.

    from edgefer import Recognizer
    results = Recognizer()("photo.jpg")    # shipped int8 model, shipped YuNet face detector
    results[0].faces[0].emotion            # 'happy'
    Recognizer().run("clip.mp4", save="out.mp4", csv="out.csv")   # a RunSummary

The names below load on first use, so `import edgefer` stays light; none needs torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "Recognizer": "edgefer.runtime.recognizer",
    "EmotionClassifier": "edgefer.runtime.classifier",
    "Prediction": "edgefer.runtime.classifier",
    "FaceDetector": "edgefer.runtime.face_detector",
    "Face": "edgefer.runtime.face_detector",
    "FaceResult": "edgefer.runtime.results",
    "FrameResult": "edgefer.runtime.results",
    "RunSummary": "edgefer.runtime.run",
    "LiveServer": "edgefer.runtime.serve",
    "EdgeferError": "edgefer.errors",
}
__all__ = ["EdgeferError", "EmotionClassifier", "Face", "FaceDetector", "FaceResult",
           "FrameResult", "LiveServer", "Prediction", "Recognizer", "RunSummary",
           "__version__"]

if TYPE_CHECKING:
    from edgefer.errors import EdgeferError
    from edgefer.runtime.classifier import EmotionClassifier, Prediction
    from edgefer.runtime.face_detector import Face, FaceDetector
    from edgefer.runtime.recognizer import Recognizer
    from edgefer.runtime.results import FaceResult, FrameResult
    from edgefer.runtime.run import RunSummary
    from edgefer.runtime.serve import LiveServer


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'edgefer' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
