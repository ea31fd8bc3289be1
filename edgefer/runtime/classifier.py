"""`EmotionClassifier`: a self-describing edgefer model on any backend, and the interface
every emotion classifier shares (`FaceClassifier`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgefer.errors import BadArgumentError, EdgeferError
from edgefer.preprocess import Preprocess
from edgefer.runtime.assets import resolve_model
from edgefer.runtime.backends import open_engine

# faces per inference call: four edge-l-sized models on the 28,709 training faces in one call
# each grew past 23 GB and were killed for memory
CHUNK = 256


@dataclass(frozen=True)
class Prediction:
    """One face's emotion: the most probable label, its probability and every probability."""

    emotion: str
    confidence: float
    probs: dict[str, float]


class FaceClassifier:
    """What every emotion classifier offers, whatever runs it: subclasses set `preprocess`,
    `labels`, `backend` and `flip_tta` and implement `run_tensor` (preprocessed batch ->
    probabilities).
    """

    preprocess: Preprocess
    labels: list[str]
    backend: str
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
        """(N, classes) probabilities for a batch of face crops (as for `predict_batch`), run
        `CHUNK` faces at a time."""
        x = self.preprocess(as_face_batch(faces))
        if len(x) <= CHUNK:
            return self._probs(x)
        return np.concatenate([self._probs(x[i:i + CHUNK]) for i in range(0, len(x), CHUNK)])

    def _probs(self, x: np.ndarray) -> np.ndarray:
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
    """Classifies face crops with a model exported by `edgefer export`, or a shipped model by
    name ('edge', the default, or 'edge-s'; see `edgefer.runtime.assets`): `predict(face)` for
    one crop, `predict_batch(faces)` for several.

    Everything the model needs (labels, input size, colour, normalisation) comes from its
    `edgefer` metadata. `backend` picks the runtime (see `edgefer.runtime.backends`; auto: the
    model format's own, CUDA where onnxruntime has it); `threads` its intra-op threads (None:
    all cores). `flip_tta` averages each face's probabilities with its mirror image's.
    """

    def __init__(self, path: str | Path | None = None, backend: str = "auto",
                 threads: int | None = None, flip_tta: bool = False):
        self.path = resolve_model(path, backend)
        self.flip_tta = flip_tta
        self.engine = open_engine(self.path, backend, threads)
        self.meta, self.backend = self.engine.meta, self.engine.backend
        self.preprocess = self.meta.preprocess
        self.labels: list[str] = self.meta.labels
        self._check_signature()

    def _check_signature(self) -> None:
        spec, shape = self.preprocess, self.engine.input_shape
        h, w = spec.size
        expected = [spec.channels, h, w] if spec.layout == "NCHW" else [h, w, spec.channels]
        if shape is not None and (len(shape) != 3 or any(
                d is not None and d != e for d, e in zip(shape, expected, strict=True))):
            raise EdgeferError(f"{self.path}: metadata describes input {expected} but the graph "
                               f"takes {shape}")
        n_out = self.engine.outputs
        if n_out is not None and n_out != len(self.labels):
            raise EdgeferError(f"{self.path}: {len(self.labels)} labels but {n_out} outputs")

    def run_tensor(self, x: np.ndarray) -> np.ndarray:
        """Probabilities for an already preprocessed float32 batch."""
        if len(x) == 0:
            return np.zeros((0, len(self.labels)), np.float32)
        return self.engine.run(x)


def is_one_image(a: np.ndarray) -> bool:
    """Whether an array has the shape of one OpenCV image: H x W gray, or H x W x 1/3/4."""
    return a.ndim == 2 or (a.ndim == 3 and a.shape[2] in (1, 3, 4))


def as_face(face: object) -> np.ndarray:
    """One face crop as an array, or EdgeferError: never a batch read as one face."""
    if not isinstance(face, np.ndarray):
        raise BadArgumentError(f"predict takes one face crop as a numpy array, not "
                           f"{type(face).__name__}: use predict_batch for several")
    if is_one_image(face):
        return face
    raise BadArgumentError(f"a face crop of shape {face.shape} is not a gray HxW, BGR HxWx3 or "
                           "BGRA HxWx4 image: use predict_batch for several faces")


def as_face_batch(faces: object) -> np.ndarray | list[np.ndarray]:
    """Several face crops: a sequence of arrays, (N, H, W) gray or (N, H, W, C); EdgeferError
    for an array that could be one colour face as well as N gray ones."""
    if isinstance(faces, np.ndarray):
        if faces.ndim == 4 or (faces.ndim == 3 and not is_one_image(faces)):
            return faces
        if faces.ndim == 3:
            raise BadArgumentError(f"a {faces.shape} array is ambiguous: one face (use predict) or "
                               f"{faces.shape[0]} gray faces of {faces.shape[1]}x{faces.shape[2]} "
                               "(pass a list, or an N x H x W x 1 array)")
        raise BadArgumentError(f"a batch of faces must be an N x H x W or N x H x W x C array, "
                           f"not shape {faces.shape}")
    if isinstance(faces, (str, bytes)) or not isinstance(faces, Sequence):
        raise BadArgumentError(f"a batch of faces must be a list of arrays or an array, not "
                           f"{type(faces).__name__}")
    return [as_face(f) for f in faces]
