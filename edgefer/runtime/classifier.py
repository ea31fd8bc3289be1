"""`EmotionClassifier`: a self-describing edgefer ONNX model on onnxruntime or OpenCV DNN."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort

from edgefer.errors import EdgeferError
from edgefer.modelmeta import ModelMeta
from edgefer.preprocess import Preprocess
from edgefer.runtime.assets import default_model

BACKENDS = ("auto", "ort-cpu", "ort-cuda", "opencv")


@dataclass(frozen=True)
class Prediction:
    """One face's emotion: the most probable label, its probability and every probability."""

    emotion: str
    confidence: float
    probs: dict[str, float]


class FaceClassifier:
    """What every emotion classifier offers, whatever runs it: subclasses set `preprocess`,
    `labels` and `flip_tta` and implement `run_tensor` (preprocessed batch -> probabilities).
    """

    preprocess: Preprocess
    labels: list[str]
    flip_tta: bool = False

    def run_tensor(self, x: np.ndarray) -> np.ndarray:
        """(N, classes) probabilities for an already preprocessed float32 batch."""
        raise NotImplementedError

    def predict(self, face: np.ndarray) -> Prediction:
        """The emotion of one face crop: gray HxW, HxWx1, BGR HxWx3 or BGRA HxWx4, any size."""
        return self._predictions(self.predict_probs([as_face(face)]))[0]

    __call__ = predict

    def predict_batch(self, faces: np.ndarray | Sequence[np.ndarray]) -> list[Prediction]:
        """One prediction per face: a list of crops, an N x H x W gray array or an
        N x H x W x C array."""
        return self._predictions(self.predict_probs(faces))

    def predict_probs(self, faces: np.ndarray | Sequence[np.ndarray]) -> np.ndarray:
        """(N, classes) probabilities for a batch of face crops (as for `predict_batch`)."""
        x = self.preprocess(as_face_batch(faces))
        if not self.flip_tta or len(x) == 0:
            return self.run_tensor(x)
        width_axis = 3 if self.preprocess.layout == "NCHW" else 2
        probs = self.run_tensor(np.concatenate([x, np.flip(x, width_axis)]))
        return (probs[:len(x)] + probs[len(x):]) / 2

    def _predictions(self, probs: np.ndarray) -> list[Prediction]:
        out = []
        for p in probs:
            k = int(p.argmax())
            out.append(Prediction(self.labels[k], float(p[k]),
                                  {name: float(v) for name, v in zip(self.labels, p, strict=True)}))
        return out


class EmotionClassifier(FaceClassifier):
    """Classifies face crops with a model exported by `edgefer export` (default: the shipped
    int8 model): `predict(face)` for one crop, `predict_batch(faces)` for several.

    Everything the model needs (labels, input size, colour, normalisation) comes from its
    `edgefer` metadata. `threads` sets onnxruntime's intra-op threads (None: all cores).
    `flip_tta` averages each face's probabilities with its mirror image's (one batch of 2N).
    """

    def __init__(self, path: str | Path | None = None, backend: str = "auto",
                 threads: int | None = None, flip_tta: bool = False):
        self.path, self.flip_tta = Path(path) if path is not None else default_model(), flip_tta
        if threads is not None and threads < 1:
            raise EdgeferError(f"threads must be at least 1, not {threads}")
        self.session = open_session(self.path, backend, threads)
        self.meta = ModelMeta.from_model(self.session.get_modelmeta().custom_metadata_map,
                                         str(self.path))
        self.preprocess = self.meta.preprocess
        self.labels: list[str] = self.meta.labels
        self._check_signature()
        self.backend = "ort-cuda" if "CUDAExecutionProvider" in self.session.get_providers() \
            else "ort-cpu"
        self._net = None
        if backend == "opencv":
            self._net = _opencv_net(self.path, self.meta.precision, threads)
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

    def run_tensor(self, x: np.ndarray) -> np.ndarray:
        """Probabilities for an already preprocessed float32 batch."""
        if len(x) == 0:
            return np.zeros((0, len(self.labels)), np.float32)
        if self._net is not None:
            self._net.setInput(x)
            return np.asarray(self._net.forward(), np.float32).reshape(len(x), -1)
        return self.session.run(None, {self.input_name: x})[0]


def is_one_image(a: np.ndarray) -> bool:
    """Whether an array has the shape of one OpenCV image: H x W gray, or H x W x 1/3/4."""
    return a.ndim == 2 or (a.ndim == 3 and a.shape[2] in (1, 3, 4))


def as_face(face: object) -> np.ndarray:
    """One face crop as an array, or EdgeferError: never a batch read as one face."""
    if not isinstance(face, np.ndarray):
        raise EdgeferError(f"predict takes one face crop as a numpy array, not "
                           f"{type(face).__name__}: use predict_batch for several")
    if is_one_image(face):
        return face
    raise EdgeferError(f"a face crop of shape {face.shape} is not a gray HxW, BGR HxWx3 or BGRA "
                       "HxWx4 image: use predict_batch for several faces")


def as_face_batch(faces: object) -> np.ndarray | list[np.ndarray]:
    """Several face crops: a sequence of arrays, (N, H, W) gray or (N, H, W, C); EdgeferError
    for an array that could be one colour face as well as N gray ones."""
    if isinstance(faces, np.ndarray):
        if faces.ndim == 4 or (faces.ndim == 3 and not is_one_image(faces)):
            return faces
        if faces.ndim == 3:
            raise EdgeferError(f"a {faces.shape} array is ambiguous: one face (use predict) or "
                               f"{faces.shape[0]} gray faces of {faces.shape[1]}x{faces.shape[2]} "
                               "(pass a list, or an N x H x W x 1 array)")
        raise EdgeferError(f"a batch of faces must be an N x H x W or N x H x W x C array, "
                           f"not shape {faces.shape}")
    if isinstance(faces, (str, bytes)) or not isinstance(faces, Sequence):
        raise EdgeferError(f"a batch of faces must be a list of arrays or an array, not "
                           f"{type(faces).__name__}")
    return [as_face(f) for f in faces]


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
