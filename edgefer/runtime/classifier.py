"""`EmotionClassifier`: a self-describing edgefer ONNX model on onnxruntime or OpenCV DNN."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort

from edgefer.errors import EdgeferError
from edgefer.modelmeta import parse_metadata

BACKENDS = ("auto", "ort-cpu", "ort-cuda", "opencv")


@dataclass(frozen=True)
class Prediction:
    """One face's result."""

    label: str
    confidence: float
    probs: dict[str, float]


class EmotionClassifier:
    """Classifies batches of face crops with a model exported by `edgefer export`.

    Everything the model needs (labels, input size, colour, normalisation) comes from its
    `edgefer` metadata. `threads` sets onnxruntime's intra-op threads (None: all cores).
    `flip_tta` averages each face's probabilities with its mirror image's (one batch of 2N).
    """

    def __init__(self, path: str | Path, backend: str = "auto", threads: int | None = None,
                 flip_tta: bool = False):
        self.path, self.flip_tta = Path(path), flip_tta
        check_backend(backend)
        if threads is not None and threads < 1:
            raise EdgeferError(f"threads must be at least 1, not {threads}")
        self.session = open_session(self.path, backend, threads)
        self.meta = parse_metadata(self.session.get_modelmeta().custom_metadata_map,
                                   str(self.path))
        self.preprocess = self.meta["preprocess"]
        self.labels: list[str] = self.meta["labels"]
        self._check_signature()
        self.backend = "ort-cuda" if "CUDAExecutionProvider" in self.session.get_providers() \
            else "ort-cpu"
        self._net = None
        if backend == "opencv":
            self._net = _opencv_net(self.path, self.meta["precision"], threads)
            self.backend = "opencv"

    def _check_signature(self) -> None:
        inputs, outputs = self.session.get_inputs(), self.session.get_outputs()
        if len(inputs) != 1 or len(outputs) < 1:
            raise EdgeferError(f"{self.path}: expected one input and an output")
        self.input_name = inputs[0].name
        spec = self.preprocess
        h, w = spec.size
        expected = [spec.channels, h, w] if spec.layout == "NCHW" else [h, w, spec.channels]
        shape = inputs[0].shape[1:]
        if len(shape) != 3 or any(isinstance(d, int) and d != e
                                  for d, e in zip(shape, expected, strict=True)):
            raise EdgeferError(f"{self.path}: metadata describes input {expected} but the graph "
                               f"takes {shape}")
        n_out = outputs[0].shape[-1]
        if isinstance(n_out, int) and n_out != len(self.labels):
            raise EdgeferError(f"{self.path}: {len(self.labels)} labels but {n_out} outputs")

    def predict_probs(self, faces: np.ndarray | Sequence[np.ndarray]) -> np.ndarray:
        """(N, classes) probabilities for a batch of face crops (any size, gray or BGR)."""
        x = self.preprocess(faces)
        if not self.flip_tta or len(x) == 0:
            return self.run_tensor(x)
        width_axis = 3 if self.preprocess.layout == "NCHW" else 2
        probs = self.run_tensor(np.concatenate([x, np.flip(x, width_axis)]))
        return (probs[:len(x)] + probs[len(x):]) / 2

    def run_tensor(self, x: np.ndarray) -> np.ndarray:
        """Probabilities for an already preprocessed float32 batch."""
        if len(x) == 0:
            return np.zeros((0, len(self.labels)), np.float32)
        if self._net is not None:
            self._net.setInput(x)
            return np.asarray(self._net.forward(), np.float32).reshape(len(x), -1)
        return self.session.run(None, {self.input_name: x})[0]

    def __call__(self, faces: np.ndarray | Sequence[np.ndarray]) -> list[Prediction]:
        """Label, confidence and all probabilities for each face crop."""
        out = []
        for p in self.predict_probs(faces):
            k = int(p.argmax())
            out.append(Prediction(self.labels[k], float(p[k]),
                                  {name: float(v) for name, v in zip(self.labels, p, strict=True)}))
        return out


def check_backend(backend: str) -> None:
    """EdgeferError for a backend name we do not know or this onnxruntime cannot run."""
    if backend not in BACKENDS:
        raise EdgeferError(f"unknown backend {backend!r}: choose one of {', '.join(BACKENDS)}")
    if backend == "ort-cuda" and "CUDAExecutionProvider" not in ort.get_available_providers():
        raise EdgeferError("backend ort-cuda: this onnxruntime build has no CUDA provider "
                           "(install onnxruntime-gpu)")


def open_session(path: Path, backend: str = "ort-cpu",
                 threads: int | None = None) -> ort.InferenceSession:
    """An onnxruntime session on the backend's providers with `threads` intra-op threads."""
    if not path.is_file():
        raise EdgeferError(f"model not found: {path}")
    check_backend(backend)
    available = ort.get_available_providers()
    providers = ["CPUExecutionProvider"]
    if backend in ("auto", "ort-cuda") and "CUDAExecutionProvider" in available:
        providers.insert(0, "CUDAExecutionProvider")
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    if threads:
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
    try:
        return ort.InferenceSession(str(path), opts, providers=providers)
    except Exception as e:  # onnxruntime raises its own Fail/InvalidGraph/... types
        reason = str(e).strip().splitlines()[0][:200]
        raise EdgeferError(f"{path}: not a loadable ONNX model ({reason})") from None


def _opencv_net(path: Path, precision: str, threads: int | None):
    """OpenCV DNN for fp32 models only: OpenCV 5's DNN silently mis-runs int8 QDQ graphs."""
    import cv2

    if precision != "fp32":
        raise EdgeferError(f"{path}: the opencv backend runs fp32 models only; OpenCV's DNN "
                           "gives wrong results for int8 QDQ models: use ort-cpu")
    if threads:
        cv2.setNumThreads(threads)
    try:
        return cv2.dnn.readNetFromONNX(str(path))
    except cv2.error as e:
        raise EdgeferError(f"{path}: OpenCV DNN cannot load it ({str(e).strip()[:160]})") from None
