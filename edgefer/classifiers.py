"""Any trained model as a classifier: an exported file (.onnx, OpenVINO .xml, ncnn .param or
LiteRT .tflite: the runtime, no torch) or a checkpoint (PyTorch), all with the
`FaceClassifier` interface."""

from __future__ import annotations

from pathlib import Path

from edgefer.errors import EdgeferError, require
from edgefer.runtime.classifier import EmotionClassifier, FaceClassifier
from edgefer.runtime.formats import is_model_file


def open_classifier(path: Path, threads: int | None = None, flip_tta: bool = False,
                    backend: str = "auto") -> FaceClassifier:
    """`path` as a classifier: exported files through the runtime on `backend`, anything else
    as a checkpoint (needs torch; runs in PyTorch whatever `backend` says, but "auto")."""
    if is_model_file(path):
        return EmotionClassifier(path, backend=backend, threads=threads, flip_tta=flip_tta)
    if backend != "auto":
        raise EdgeferError(f"{path}: a checkpoint runs in PyTorch; --backend {backend} runs "
                           "exported models (edgefer export)")
    require("torch")
    from edgefer.train.predictor import CheckpointClassifier

    return CheckpointClassifier(path, threads=threads, flip_tta=flip_tta)
