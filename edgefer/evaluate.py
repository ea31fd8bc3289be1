"""`edgefer evaluate`: accuracy, macro F1, per-class metrics and confusion on one split."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from edgefer.data import load_faces
from edgefer.errors import EdgeferError, require
from edgefer.metrics import classification_metrics

Predictor = Callable[[np.ndarray], np.ndarray]  # (N, 48, 48) uint8 faces -> (N, k) probabilities


def load_predictor(path: Path, flip_tta: bool = False) -> tuple[Predictor, list[str]]:
    """A batch predictor and its label names, for an exported .onnx or a checkpoint."""
    if path.suffix == ".onnx":
        from edgefer.runtime import EmotionClassifier

        clf = EmotionClassifier(path, flip_tta=flip_tta)
        return clf.predict_probs, clf.labels
    if flip_tta:
        raise EdgeferError("--flip-tta applies to exported .onnx models")
    require("torch")
    import torch

    from edgefer.train.checkpoint import load_checkpoint, model_from_checkpoint

    model, spec, labels = model_from_checkpoint(load_checkpoint(path))

    @torch.no_grad()
    def predict(images: np.ndarray) -> np.ndarray:
        chunks = np.array_split(images, max(1, len(images) // 512))
        return torch.cat([model(torch.from_numpy(spec(c))).softmax(1) for c in chunks]).numpy()

    return predict, labels


def evaluate(model_path: Path, data: Path, split: str = "test", labels: str = "fer2013",
             skip_bad: bool = False, limit: int | None = None,
             predictions: Path | None = None, flip_tta: bool = False) -> dict:
    """Evaluate a model on a split (its first `limit` faces when given); also reports accuracy
    on faces not seen in Training, and writes per-face probabilities to `predictions`."""
    predict, names = load_predictor(model_path, flip_tta)
    faces = load_faces(data, skip_bad=skip_bad, labels=labels)
    part = faces.split(split)
    if limit is not None:
        if limit < 1:
            raise EdgeferError(f"--limit must be at least 1, got {limit}")
        part = part.select(np.arange(min(limit, len(part))))
    if len(part) == 0:
        raise EdgeferError(f"{data}: the '{split}' split is empty")
    probs = predict(part.images)
    pred = probs.argmax(1)
    if predictions is not None:
        write_predictions(predictions, part.rows, part.labels, probs, names)
    result = {"model": str(model_path), "split": split, "labels": labels, "flip_tta": flip_tta,
              **classification_metrics(part.labels, pred, names)}
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
