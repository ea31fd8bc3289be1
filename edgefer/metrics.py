"""Classification metrics in numpy: confusion matrix, per-class precision/recall/F1, report."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, k: int) -> np.ndarray:
    """(k, k) counts, rows = true class, columns = predicted class."""
    cm = np.zeros((k, k), np.int64)
    np.add.at(cm, (np.asarray(y_true, np.int64), np.asarray(y_pred, np.int64)), 1)
    return cm


def classification_metrics(y_true: np.ndarray, y_pred: np.ndarray,
                           labels: Sequence[str]) -> dict:
    """Accuracy, macro F1, per-class precision/recall/F1/support and the confusion matrix."""
    cm = confusion_matrix(y_true, y_pred, len(labels))
    tp = np.diag(cm).astype(float)
    support, predicted = cm.sum(1), cm.sum(0)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    n = int(cm.sum())
    return {
        "n": n,
        "accuracy": float(tp.sum() / n) if n else 0.0,
        "macro_f1": float(f1[support > 0].mean()) if (support > 0).any() else 0.0,
        "per_class": {
            name: {"precision": float(precision[i]), "recall": float(recall[i]),
                   "f1": float(f1[i]), "support": int(support[i])}
            for i, name in enumerate(labels)
        },
        "confusion": cm.tolist(),
    }


def format_report(result: dict) -> str:
    """A plain-text report: accuracy, then one row per class (recall = per-class accuracy)."""
    lines = [f"{result['model']} ({result['backend']})  split={result['split']}  n={result['n']}",
             f"accuracy {result['accuracy']:.4f}   macro F1 {result['macro_f1']:.4f}"]
    if "unseen" in result:
        u = result["unseen"]
        lines.append(f"accuracy on the {u['n']} faces not also in Training: {u['accuracy']:.4f}")
    lines += ["", f"{'class':>10} {'precision':>9} {'recall':>9} {'f1':>9} {'support':>8}"]
    for name, m in result["per_class"].items():
        lines.append(f"{name:>10} {m['precision']:9.3f} {m['recall']:9.3f} {m['f1']:9.3f} "
                     f"{m['support']:8d}")
    return "\n".join(lines)
