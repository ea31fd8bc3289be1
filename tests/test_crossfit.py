"""Cross-fitting: teachers trained without one fold of Training each teach only that fold."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import onnx
import pytest
import torch
from helpers import assert_one_line_error, run_cli

from edgefer.data import EMOTIONS, load_faces
from edgefer.errors import EdgeferError
from edgefer.modelfile import write_with_metadata
from edgefer.modelmeta import KEY, ModelMeta
from edgefer.preprocess import Preprocess
from edgefer.runtime import EmotionClassifier
from edgefer.train.distill import Teacher


def test_folds_are_fixed_balanced_and_keep_duplicates_together(fer):
    train = fer.split("train")
    folds = train.folds(5)
    assert np.array_equal(folds, train.folds(5))  # a function of the pixels alone
    assert np.array_equal(train.select(np.arange(100, 300)).folds(5), folds[100:300])
    counts = np.bincount(folds, minlength=5)
    assert counts.min() > 0.97 * len(train) / 5 and counts.max() < 1.03 * len(train) / 5
    _, first, inverse = np.unique(train.images.reshape(len(train), -1), axis=0,
                                  return_index=True, return_inverse=True)
    duplicated = np.bincount(inverse.ravel()) > 1
    assert duplicated.sum() > 10  # FER2013 repeats faces within Training
    assert np.array_equal(folds, folds[first][inverse.ravel()])
    with pytest.raises(EdgeferError, match="at least 2 folds"):
        train.folds(1)


def _relabelled(path, held_out, dst):
    meta = EmotionClassifier(path).meta
    write_with_metadata(path, replace(meta, held_out=held_out), dst)
    return str(dst)


def test_each_face_is_taught_by_the_teachers_that_never_saw_it(exported, fer, tmp_path):
    """Two different models as the teachers of folds 0 and 1 of 2, and one of all Training."""
    x = torch.from_numpy(Preprocess()(fer.split("val").images[:40]))
    folds = torch.arange(40) % 2
    cpu, labels = torch.device("cpu"), list(EMOTIONS)
    fp32, int8 = exported / "model.onnx", exported / "model.int8.onnx"
    a = _relabelled(fp32, {"fold": 0, "folds": 2}, tmp_path / "a.onnx")
    b = _relabelled(int8, {"fold": 1, "folds": 2}, tmp_path / "b.onnx")
    own = {p: Teacher([str(p)], Preprocess(), labels, cpu).soft_targets(x, 4.0)
           for p in (fp32, int8)}
    crossfit = Teacher([a, b], Preprocess(), labels, cpu)
    assert crossfit.folds == 2
    got = crossfit.soft_targets(x, 4.0, folds)
    assert torch.allclose(got[0::2], own[fp32][0::2], atol=1e-6)
    assert torch.allclose(got[1::2], own[int8][1::2], atol=1e-6)
    mixed = Teacher([a, b, str(fp32)], Preprocess(), labels, cpu, flip=True)
    flipped = {p: Teacher([str(p)], Preprocess(), labels, cpu, flip=True).soft_targets(x, 4.0)
               for p in (fp32, int8)}
    got = mixed.soft_targets(x, 4.0, folds)
    assert torch.allclose(got[0::2], flipped[fp32][0::2], atol=1e-6)
    assert torch.allclose(got[1::2], (flipped[int8][1::2] + flipped[fp32][1::2]) / 2, atol=1e-6)
    with pytest.raises(EdgeferError, match="no teacher held out fold"):
        Teacher([a], Preprocess(), labels, cpu)
    c = _relabelled(fp32, {"fold": 1, "folds": 3}, tmp_path / "c.onnx")
    with pytest.raises(EdgeferError, match="of 2 and 3 folds"):
        Teacher([a, b, c], Preprocess(), labels, cpu)


def test_bad_held_out_metadata_is_refused(exported, tmp_path):
    model = onnx.load(str(exported / "model.onnx"))
    meta = json.loads(next(p.value for p in model.metadata_props if p.key == KEY))
    with pytest.raises(EdgeferError, match="'held_out' must be"):
        ModelMeta.from_json(json.dumps({**meta, "held_out": {"fold": 2, "folds": 2}}), "m")


def test_cross_fitted_runs_export_their_fold_and_teach_a_student(small_npz, tmp_path):
    common = ["--data", str(small_npz), "--model", "edge-s", "--epochs", "1",
              "--batch-size", "32", "--augment", "none"]
    runs = [tmp_path / f"fold{i}" for i in range(2)]
    folds = load_faces(small_npz).split("train").folds(2)
    for i, run in enumerate(runs):
        proc = run_cli("train", *common, "--folds", "2", "--fold", str(i), "--out", str(run))
        said = " ".join((proc.stdout + proc.stderr).split())
        assert f"{(folds != i).sum()} train / " in said
    run_cli("export", str(runs[1]), "--data", str(small_npz), "--out", str(tmp_path / "x"),
            "--latency-runs", "5")
    assert EmotionClassifier(tmp_path / "x" / "model.onnx").meta.held_out == \
        {"fold": 1, "folds": 2}
    teachers = f"{runs[0]},{tmp_path / 'x' / 'model.onnx'}"
    run_cli("train", *common, "--teacher", teachers, "--out", str(tmp_path / "student"))
    bad = run_cli("train", *common, "--teacher", teachers, "--mixup", "0.2",
                  "--out", str(tmp_path / "mixed"), check=False)
    assert_one_line_error(bad, "cross-fitted teacher may have trained on the second")
