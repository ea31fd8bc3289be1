"""Training on real faces: learning, run outputs, checkpoints, resume, bad files (kills and
a full disk: tests/reliability)."""

from __future__ import annotations

import os
import pickle

import cv2
import numpy as np
import pytest
import torch
from helpers import assert_one_line_error, history, run_cli

from edgefer.errors import EdgeferError
from edgefer.train.checkpoint import load_checkpoint, model_from_checkpoint

# The best constant predictor on PublicTest: its majority share and class-prior entropy (nats).
VAL_MAJORITY = 895 / 3589
VAL_PRIOR_ENTROPY = 1.8102


def test_one_epoch_on_4000_faces_beats_chance(trained_run):
    (row,) = history(trained_run)
    assert float(row["val_acc"]) > VAL_MAJORITY
    assert float(row["val_loss"]) < VAL_PRIOR_ENTROPY


def test_run_dir_outputs(trained_run):
    assert {p.name for p in trained_run.iterdir()} >= {"best.pt", "last.pt", "metrics.csv",
                                                         "curves.png", "config.json"}
    img = cv2.imread(str(trained_run / "curves.png"))
    assert img is not None and img.std() > 5
    ckpt = load_checkpoint(trained_run)
    assert ckpt["arch"] == "edge-s" and len(ckpt["labels"]) == 7 and "optimizer" not in ckpt
    _model, spec, labels = model_from_checkpoint(ckpt)
    assert spec.size == (48, 48) and labels[3] == "happy"
    assert "optimizer" in load_checkpoint(trained_run, name="last.pt")


def test_existing_run_needs_resume(trained_run, fer_path):
    proc = run_cli("train", "--data", str(fer_path), "--out", str(trained_run), check=False)
    assert_one_line_error(proc, "already holds a run", "--resume")


def test_resume_can_extend_epochs(trained_run, tmp_path):
    import shutil

    run = tmp_path / "extend"
    shutil.copytree(trained_run, run)
    run_cli("train", "--resume", str(run / "last.pt"), "--epochs", "2")
    assert [int(r["epoch"]) for r in history(run)] == [1, 2]


def test_pickle_checkpoint_is_never_executed(tmp_path):
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps({"model": Exploit()}))
    with pytest.raises(EdgeferError, match="not a loadable edgefer checkpoint"):
        load_checkpoint(path)
    torch.save({"model": Exploit()}, tmp_path / "evil_zip.pt")
    with pytest.raises(EdgeferError, match="not a loadable edgefer checkpoint"):
        load_checkpoint(tmp_path / "evil_zip.pt")
    assert not marker.exists()


def test_foreign_and_missing_checkpoints(tmp_path):
    torch.save(torch.nn.Linear(2, 2).state_dict(), tmp_path / "raw.pt")
    with pytest.raises(EdgeferError, match="not an edgefer checkpoint"):
        load_checkpoint(tmp_path / "raw.pt")
    (tmp_path / "trunc.pt").write_bytes(np.random.default_rng(0).bytes(1000))
    with pytest.raises(EdgeferError, match="not a loadable"):
        load_checkpoint(tmp_path / "trunc.pt")
    with pytest.raises(EdgeferError, match="checkpoint not found"):
        load_checkpoint(tmp_path / "none.pt")


@pytest.mark.parametrize(("args", "message"), [
    (["--model", "vgg99"], "unknown model"),
    (["--epochs", "0"], "--epochs must be at least 1"),
    (["--optimizer", "lion"], "--optimizer must be one of"),
    (["--ema", "1"], "--ema must be in [0, 1)"),
    (["--mixup", "-0.2"], "--mixup and --cutmix must not be negative"),
    (["--sam", "-0.05"], "--sam must not be negative"),
    (["--folds", "1"], "--folds must be at least 2"),
    (["--fold", "1"], "--fold needs --folds"),
    (["--folds", "3", "--fold", "3"], "--fold must be in 0..2"),
])
def test_bad_train_options(small_npz, tmp_path, args, message):
    proc = run_cli("train", "--data", str(small_npz), "--out", str(tmp_path / "r"), *args,
                   check=False)
    assert_one_line_error(proc, message)


@pytest.mark.slow
def test_ema_is_what_is_validated_kept_and_resumed(small_npz, tmp_path):
    """--ema: checkpoints hold the averaged weights as the model (what val scored, what
    export reads) and the optimizer's own beside them; a resumed run equals an unbroken one."""
    from edgefer.data import load_faces

    args = ("train", "--data", str(small_npz), "--model", "edge-s", "--batch-size", "32",
            "--augment", "none", "--scheduler", "plateau", "--ema", "0.9")  # lr: not by epochs
    run_cli(*args, "--epochs", "2", "--out", str(tmp_path / "whole"))
    run_cli(*args, "--epochs", "1", "--out", str(tmp_path / "cut"))
    run_cli("train", "--resume", str(tmp_path / "cut"), "--epochs", "2")
    whole, cut = history(tmp_path / "whole"), history(tmp_path / "cut")
    assert [r["val_acc"] for r in whole] == [r["val_acc"] for r in cut]
    last = load_checkpoint(tmp_path / "whole", "last.pt")
    assert last["ema_steps"] == 2 * 22  # 700 faces in batches of 32, two epochs
    assert any(not torch.equal(v, last["trained"][k]) for k, v in last["model"].items())
    val = load_faces(small_npz).split("val")
    model, spec, _ = model_from_checkpoint(last)
    with torch.no_grad():
        acc = (model(torch.from_numpy(spec(val.images))).argmax(1).numpy() == val.labels).mean()
    assert acc == pytest.approx(float(whole[-1]["val_acc"]), abs=1e-9)


def test_sam_ascends_by_rho_along_the_gradient_then_restores_weights_and_statistics():
    from edgefer.train.sam import ascended

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.BatchNorm2d(4),
                                torch.nn.Flatten(), torch.nn.Linear(144, 7))
    x = torch.randn(8, 1, 8, 8)
    model(x).square().mean().backward()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    grad = torch.cat([p.grad.flatten() for p in model.parameters()])
    with ascended(model, 0.05):
        moved = torch.cat([p.detach().flatten() for p in model.parameters()])
        model(x + 1)  # a training-mode pass: would move batch norm's running statistics
    start = torch.cat([before[k].flatten() for k, _ in model.named_parameters()])
    assert torch.allclose(moved - start, 0.05 * grad / grad.norm(), atol=1e-7)
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
    assert model[1].momentum == 0.1


def test_mixup_blends_pairs_and_cutmix_pastes_a_box_at_the_weight_it_reports():
    from edgefer.train.augment import Mix

    x = torch.arange(4, dtype=torch.float32).view(4, 1, 1, 1).expand(4, 1, 8, 8).contiguous()
    assert Mix(0, 0)(x, torch.Generator()) == (x, None, 1.0)
    mixed, partner, lam = Mix(0.2, 0)(x, torch.Generator().manual_seed(0))
    assert sorted(partner.tolist()) == [0, 1, 2, 3] and 0 < lam < 1
    assert torch.allclose(mixed, lam * x + (1 - lam) * x[partner])
    for seed in range(5):
        cut, partner, lam = Mix(0, 1.0)(x, torch.Generator().manual_seed(seed))
        own = (cut == x).flatten(1).float().mean(1)  # each face: the share of its own pixels
        moved = partner != torch.arange(4)
        assert torch.allclose(own[moved], torch.full_like(own[moved], lam))
        assert torch.equal(cut[~moved], x[~moved])  # paired with itself: unchanged
    again = Mix(0.2, 1.0)(x, torch.Generator().manual_seed(3))
    assert torch.equal(again[0], Mix(0.2, 1.0)(x, torch.Generator().manual_seed(3))[0])
