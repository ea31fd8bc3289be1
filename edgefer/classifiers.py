"""Any trained model as a classifier: an exported .onnx (onnxruntime, no torch) or a
checkpoint (PyTorch), both with the `FaceClassifier` interface."""

from __future__ import annotations

from pathlib import Path

from edgefer.errors import require
from edgefer.runtime.classifier import EmotionClassifier, FaceClassifier


def open_classifier(path: Path, threads: int | None = None, flip_tta: bool = False,
                    backend: str = "auto") -> FaceClassifier:
    """`path` as a classifier: .onnx files through the runtime, anything else as a
    checkpoint (needs torch)."""
    if path.suffix == ".onnx":
        return EmotionClassifier(path, backend=backend, threads=threads, flip_tta=flip_tta)
    require("torch")
    from edgefer.train.predictor import CheckpointClassifier

    return CheckpointClassifier(path, threads=threads, flip_tta=flip_tta)
