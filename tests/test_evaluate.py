"""`edgefer evaluate`: JSON schema, agreement with training's own validation, metrics maths."""

import json

import cv2
import numpy as np
import pytest
from helpers import assert_one_line_error, run_cli

from edgefer.data import EMOTIONS
from edgefer.metrics import classification_metrics
from edgefer.train.checkpoint import load_checkpoint


def test_evaluate_json_schema(trained_run, fer_path, tmp_path):
    plot = tmp_path / "confusion.png"
    proc = run_cli("evaluate", str(trained_run / "best.pt"), "--data", str(fer_path), "--split",
                   "val", "--json", "--plot", str(plot))
    result = json.loads(proc.stdout)
    assert set(result) >= {"model", "split", "n", "accuracy", "macro_f1", "per_class",
                           "confusion", "unseen"}
    assert result["split"] == "val" and result["n"] == 3589
    cm = np.array(result["confusion"])
    assert cm.shape == (7, 7) and cm.sum() == 3589
    assert set(result["per_class"]) == {"angry", "disgust", "fear", "happy", "sad", "surprise",
                                        "neutral"}
    for m in result["per_class"].values():
        assert set(m) == {"precision", "recall", "f1", "support"}
    assert 0 < result["unseen"]["n"] < 3589
    # the same preprocessing as training: evaluate reproduces the trainer's val accuracy
    best = load_checkpoint(trained_run)["best"]["val_acc"]
    assert result["accuracy"] == pytest.approx(best, abs=1e-6)
    img = cv2.imread(str(plot))
    assert img is not None and img.std() > 5


def test_limit_and_per_face_predictions(exported, fer_path, fer, tmp_path):
    preds = tmp_path / "preds.csv"
    proc = run_cli("evaluate", str(exported / "model.onnx"), "--data", str(fer_path),
                   "--limit", "40", "--predictions", str(preds), "--json")
    result = json.loads(proc.stdout)
    lines = preds.read_text().splitlines()
    assert result["n"] == 40 and len(lines) == 41
    assert lines[0].split(",")[:4] == ["row", "label", "pred", "angry"]
    test = fer.split("test")
    first = lines[1].split(",")
    assert int(first[0]) == test.rows[0] and first[1] == EMOTIONS[test.labels[0]]
    probs = np.array([[float(v) for v in ln.split(",")[3:]] for ln in lines[1:]])
    assert np.allclose(probs.sum(1), 1, atol=1e-4)
    correct = sum(ln.split(",")[1] == ln.split(",")[2] for ln in lines[1:])
    assert result["accuracy"] == pytest.approx(correct / 40)
    bad = run_cli("evaluate", str(exported / "model.onnx"), "--data", str(fer_path), "--limit",
                  "0", check=False)
    assert_one_line_error(bad, "limit must be at least 1")


def test_readable_report(trained_run, fer_path):
    out = run_cli("evaluate", str(trained_run), "--data", str(fer_path), "--split", "test").stdout
    assert "accuracy" in out and "macro F1" in out and "surprise" in out


def test_bad_split_is_one_line_error(trained_run, fer_path):
    proc = run_cli("evaluate", str(trained_run), "--data", str(fer_path), "--split", "dev",
                   check=False)
    assert_one_line_error(proc, "unknown split 'dev'")


def test_metrics_by_hand():
    y = np.array([0, 0, 1, 1, 1, 2])
    p = np.array([0, 1, 1, 1, 2, 2])
    m = classification_metrics(y, p, ["a", "b", "c"])
    assert m["accuracy"] == pytest.approx(4 / 6)
    assert m["confusion"] == [[1, 1, 0], [0, 2, 1], [0, 0, 1]]
    assert m["per_class"]["b"]["precision"] == pytest.approx(2 / 3)
    assert m["per_class"]["b"]["recall"] == pytest.approx(2 / 3)
    assert m["per_class"]["c"]["f1"] == pytest.approx(2 * 0.5 * 1 / 1.5)
    assert m["macro_f1"] == pytest.approx((2 / 3 + 2 / 3 + 2 / 3) / 3)
