"""`edgefer evaluate`: accuracy, macro F1, per-class metrics and confusion on one split."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from edgefer.classifiers import open_classifier
from edgefer.data import load_faces
from edgefer.errors import BadArgumentError, EdgeferError
from edgefer.metrics import classification_metrics

Predictor = Callable[[np.ndarray], np.ndarray]  # (N, 48, 48) uint8 faces -> (N, k) probabilities


def ensemble_predictor(paths: list[Path], flip_tta: bool = False, backend: str = "auto"
                       ) -> tuple[Predictor, list[str], str]:
    """One model's predictor, or several models' probabilities averaged (same label order),
    with the label names and the backends that run them."""
    if not paths:
        raise EdgeferError("no model to evaluate")
    models = [open_classifier(p, flip_tta=flip_tta, backend=backend) for p in paths]
    names = models[0].labels
    for path, m in zip(paths[1:], models[1:], strict=True):
        if m.labels != names:
            raise EdgeferError(f"{path}: labels {m.labels} differ from {paths[0]}'s {names}")
    backends = ", ".join(dict.fromkeys(m.backend for m in models))
    if len(models) == 1:
        return models[0].predict_probs, names, backends
    return (lambda images: np.mean([m.predict_probs(images) for m in models], axis=0)), names, \
        backends


def evaluate(model_path: Path | list[Path], data: Path, split: str = "test",
             labels: str = "fer2013", skip_bad: bool = False, limit: int | None = None,
             predictions: Path | None = None, flip_tta: bool = False, backend: str = "auto"
             ) -> dict:
    """Evaluate a model, or the average of several, on a split (its first `limit` faces when
    given); also reports accuracy on faces not seen in Training, and writes per-face
    probabilities to `predictions`."""
    paths = model_path if isinstance(model_path, list) else [model_path]
    predict, names, backends = ensemble_predictor(paths, flip_tta, backend)
    faces = load_faces(data, skip_bad=skip_bad, labels=labels)
    part = faces.split(split)
    if limit is not None:
        if limit < 1:
            raise BadArgumentError(f"limit must be at least 1, not {limit}")
        part = part.select(np.arange(min(limit, len(part))))
    if len(part) == 0:
        raise EdgeferError(f"{data}: the '{split}' split is empty")
    probs = predict(part.images)
    pred = probs.argmax(1)
    if predictions is not None:
        write_predictions(predictions, part.rows, part.labels, probs, names)
    result = {"model": " + ".join(str(p) for p in paths), "backend": backends, "split": split,
              "labels": labels,
              "flip_tta": flip_tta, **classification_metrics(part.labels, pred, names)}
    if split != "train":
        unseen = ~part.seen_in(faces.split("train"))
        result["unseen"] = {"n": int(unseen.sum()),
                            "accuracy": float((pred[unseen] == part.labels[unseen]).mean())}
    return result


def write_predictions(path: Path, rows: np.ndarray, truth: np.ndarray, probs: np.ndarray,
                      names: list[str]) -> None:
    """One CSV line per face: original row, true and predicted class, then the probabilities."""
    from edgefer.atomic import atomic_write_text

    lines = [",".join(["row", "label", "pred", *names])]
    for row, t, p in zip(rows, truth, probs, strict=True):
        lines.append(",".join([str(row), names[t], names[int(p.argmax())],
                               *(f"{v:.6f}" for v in p)]))
    atomic_write_text(path, "\n".join(lines) + "\n")
