"""`edgefer train --init`: a run starts from a checkpoint's or an exported ONNX file's weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import assert_one_line_error, run_cli

from edgefer.classifiers import open_classifier
from edgefer.data import EMOTIONS
from edgefer.errors import EdgeferError
from edgefer.models import create_model
from edgefer.preprocess import Preprocess
from edgefer.train.checkpoint import load_checkpoint
from edgefer.train.warm_start import read_source, warm_start
from edgefer.train.widen import widens

SPEC, LABELS = Preprocess(), list(EMOTIONS)


def _faces(fer, split: str, n: int) -> torch.Tensor:
    return torch.from_numpy(SPEC(fer.split(split).images[:n]))


def _started(arch: str, path: Path, faces: torch.Tensor) -> torch.nn.Module:
    model = create_model(arch, len(LABELS), SPEC.channels)
    warm_start(model, arch, read_source(path), LABELS, faces)
    return model


@pytest.mark.parametrize("arch", ["edge-s", "edge", "edge-l"])
def test_onnx_start_computes_the_exported_function(exported, fer, arch):
    """From the edge-s file: the same model, or a wider one of its shape (Net2WiderNet)."""
    faces = _faces(fer, "train", 256)
    model = _started(arch, exported / "model.onnx", faces).eval()
    x = _faces(fer, "val", 64)
    with torch.no_grad():
        ours = model(x).softmax(1).numpy()
    theirs = open_classifier(exported / "model.onnx").run_tensor(x.numpy())
    assert np.abs(ours - theirs).max() < 1e-4
    # training mode normalises by batch statistics: on the faces that measured them, the
    # features are those of eval mode (the BatchNorms were unfolded around those statistics)
    with torch.no_grad():
        eval_features = model.features(faces)
        model.features.train()
        train_features = model.features(faces)
    assert torch.allclose(train_features, eval_features, atol=1e-3)
    if arch != "edge-s":  # each copied channel takes a random share: the copies differ
        head = model.head[2].weight
        assert torch.unique(head, dim=1).shape[1] == head.shape[1]


def test_checkpoint_start_copies_the_weights(trained_run, fer):
    model = _started("edge-s", trained_run, _faces(fer, "train", 8))
    saved = load_checkpoint(trained_run)["model"]
    assert all(torch.equal(v, saved[k]) for k, v in model.state_dict().items())


@pytest.mark.parametrize("source, arch, message", [
    ("model.int8.onnx", "edge-s", "warm starts .* need the fp32 model"),
    ("model.onnx", "edge-v2", "holds an 'edge-s' model, not 'edge-v2'"),  # another stem
    ("model.onnx", "edge-xl", "nor an exported narrower one"),  # other depths
    ("model.onnx", "seed-cnn", "nor an exported narrower one"),
])
def test_unfit_sources_are_refused(exported, fer, source, arch, message):
    with pytest.raises(EdgeferError, match=message):
        _started(arch, exported / source, _faces(fer, "train", 8))


def test_only_exported_narrower_models_widen(trained_run, fer):
    """Widening reads exported weights: a checkpoint of another shape is refused, and so is
    a wider source or one trained with branches."""
    with pytest.raises(EdgeferError, match="not 'edge'"):
        _started("edge", trained_run, _faces(fer, "train", 8))
    assert widens(create_model("edge-s"), create_model("edge-w"))
    assert not widens(create_model("edge"), create_model("edge-s"))
    assert not widens(create_model("edge-s"), create_model("edge", reparam=True))


def test_onnx_without_the_weights_is_refused(exported, fer, tmp_path):
    import onnx

    proto = onnx.load(str(exported / "model.onnx"))
    for t in proto.graph.initializer:
        if t.name.endswith("head.2.weight"):
            t.name = "renamed"
            break
    broken = tmp_path / "broken.onnx"
    onnx.save(proto, str(broken))
    with pytest.raises(EdgeferError, match=r"do not fit the model.*head\.2\.weight"):
        _started("edge-s", broken, _faces(fer, "train", 8))
    (tmp_path / "junk.onnx").write_bytes(b"not a model")
    with pytest.raises(EdgeferError, match="not a loadable ONNX model"):
        _started("edge-s", tmp_path / "junk.onnx", _faces(fer, "train", 8))


@pytest.mark.slow
def test_train_from_an_exported_model(exported, small_npz, tmp_path):
    out = tmp_path / "warm"
    run_cli("train", "--data", str(small_npz), "--model", "edge-s", "--epochs", "1",
            "--lr", "1e-4", "--init", str(exported / "model.onnx"), "--out", str(out))
    ckpt = load_checkpoint(out)
    assert ckpt["config"]["init"] == str((exported / "model.onnx").resolve())
    run_cli("train", "--data", str(small_npz), "--model", "edge-s", "--epochs", "1",
            "--lr", "1e-4", "--out", str(tmp_path / "cold"))
    # one epoch at a small rate on 700 faces: the warm start keeps most of what it knew
    cold = load_checkpoint(tmp_path / "cold")["best"]["val_acc"]
    assert ckpt["best"]["val_acc"] > cold + 0.05
    # the shipped models normalise with mean 0.5: a run warm-started from one keeps its input
    shipped = Path(__file__).parents[1] / "edgefer" / "assets" / "edge-s.onnx"
    run_cli("train", "--data", str(small_npz), "--model", "edge-s", "--epochs", "1",
            "--lr", "1e-4", "--init", str(shipped), "--out", str(tmp_path / "shipped"))
    assert load_checkpoint(tmp_path / "shipped")["preprocess"]["mean"] == [0.5]
    bad = run_cli("train", "--data", str(small_npz), "--model", "edge-s", "--init",
                  str(exported / "model.int8.onnx"), "--out", str(tmp_path / "x"), check=False)
    assert_one_line_error(bad, "need the fp32 model")
