"""Distillation, CPU mixed precision and ensembles: the pieces that close the accuracy gap."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from helpers import assert_one_line_error, run_cli

from edgefer.data import EMOTIONS
from edgefer.preprocess import Preprocess
from edgefer.train.checkpoint import load_checkpoint
from edgefer.train.distill import Teacher, kd_loss
from edgefer.train.precision import autocast_dtype, cpu_has_bf16_matmul


def test_kd_loss_is_zero_only_when_the_student_matches():
    z = torch.randn(16, 7)
    assert kd_loss(z, (z / 4).softmax(1), 4.0).abs() < 1e-5
    assert kd_loss(z, (torch.randn(16, 7) / 4).softmax(1), 4.0) > 0.01


def test_checkpoint_and_onnx_teachers_agree(trained_run, exported, fer):
    x = torch.from_numpy(Preprocess()(fer.split("val").images[:64]))
    cpu = torch.device("cpu")
    a = Teacher([str(trained_run / "best.pt")], Preprocess(), list(EMOTIONS), cpu)
    b = Teacher([str(exported / "model.onnx")], Preprocess(), list(EMOTIONS), cpu)
    ta, tb = a.soft_targets(x, 4.0), b.soft_targets(x, 4.0)
    assert torch.allclose(ta, tb, atol=1e-4)
    assert torch.allclose(ta.sum(1), torch.ones(64), atol=1e-5)
    both = Teacher([str(trained_run / "best.pt")] * 2, Preprocess(), list(EMOTIONS), cpu)
    assert torch.allclose(both.soft_targets(x, 4.0), ta, atol=1e-6)  # averaged


def test_teacher_flip_averages_the_face_and_its_mirror(exported, fer):
    x = torch.from_numpy(Preprocess()(fer.split("val").images[:32]))
    cpu, model = torch.device("cpu"), [str(exported / "model.onnx")]
    plain = Teacher(model, Preprocess(), list(EMOTIONS), cpu)
    flip = Teacher(model, Preprocess(), list(EMOTIONS), cpu, flip=True)
    want = (plain.soft_targets(x, 4.0) + plain.soft_targets(x.flip(3), 4.0)) / 2
    assert torch.allclose(flip.soft_targets(x, 4.0), want, atol=1e-6)
    assert not torch.allclose(want, plain.soft_targets(x, 4.0), atol=1e-3)


def test_teacher_normalised_otherwise_sees_its_own_input(exported, fer):
    """A student normalised with mean 0.5 (the shipped models') and a teacher with the
    default 128/255: the teacher's targets are its outputs on its own input."""
    faces = fer.split("val").images[:32]
    cpu, older = torch.device("cpu"), Preprocess(mean=(0.5,))
    teacher = Teacher([str(exported / "model.onnx")], older, list(EMOTIONS), cpu)
    got = teacher.soft_targets(torch.from_numpy(older(faces)), 1.0)
    own = Teacher([str(exported / "model.onnx")], Preprocess(), list(EMOTIONS), cpu)
    assert torch.allclose(got, own.soft_targets(torch.from_numpy(Preprocess()(faces)), 1.0),
                          atol=1e-5)


def test_teacher_with_other_input_is_refused(trained_run):
    with pytest.raises(Exception, match="input or labels differ"):
        Teacher([str(trained_run / "best.pt")], Preprocess(size=(64, 64)), list(EMOTIONS),
                torch.device("cpu"))


@pytest.mark.slow
def test_train_with_teachers(trained_run, exported, small_npz, tmp_path):
    out = tmp_path / "student"
    teachers = f"{trained_run / 'best.pt'},{exported / 'model.onnx'}"
    run_cli("train", "--data", str(small_npz), "--model", "edge-s", "--epochs", "1",
            "--batch-size", "32", "--teacher", teachers, "--teacher-flip", "--kd-weight", "0.9",
            "--corrupt", "0.5", "--mixup", "0.2", "--cutmix", "1.0", "--sam", "0.05",
            "--out", str(out))
    cfg = load_checkpoint(out)["config"]
    assert cfg["teacher"] == teachers.split(",") and cfg["kd_weight"] == 0.9
    assert cfg["teacher_flip"]
    assert (cfg["corrupt"], cfg["mixup"], cfg["cutmix"], cfg["sam"]) == (0.5, 0.2, 1.0, 0.05)
    bad = run_cli("train", "--data", str(small_npz), "--teacher", str(tmp_path / "nope.pt"),
                  "--out", str(tmp_path / "x"), check=False)
    assert_one_line_error(bad, "checkpoint not found")
    bad = run_cli("train", "--data", str(small_npz), "--teacher-flip", "--out",
                  str(tmp_path / "y"), check=False)
    assert_one_line_error(bad, "--teacher-flip needs --teacher")


def test_bf16_detection_wants_matrix_units(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_bf16 amx_bf16 amx_tile\n")
    assert cpu_has_bf16_matmul(info)
    info.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_bf16 avx512_vnni\n")
    assert not cpu_has_bf16_matmul(info)  # bf16 vector dot products only: slower than fp32
    info.write_text("processor\t: 0\nflags\t\t: fpu sse avx2 fma\n")
    assert not cpu_has_bf16_matmul(info)
    info.write_text("processor\t: 0\nFeatures\t: fp asimd bf16 i8mm\n")  # Arm
    assert cpu_has_bf16_matmul(info)
    assert not cpu_has_bf16_matmul(tmp_path / "missing")


def test_amp_falls_back_to_fp32_with_a_note(monkeypatch):
    import edgefer.train.precision as precision

    cpu = torch.device("cpu")
    monkeypatch.setattr(precision, "cpu_has_bf16_matmul", lambda: False)
    dtype, note = autocast_dtype(True, cpu)
    assert dtype is None and "training in fp32" in note
    monkeypatch.setattr(precision, "cpu_has_bf16_matmul", lambda: True)
    assert autocast_dtype(True, cpu) == (torch.bfloat16, None)
    assert autocast_dtype(False, cpu) == (None, None)


def test_evaluate_averages_an_ensemble(trained_run, exported, fer_path):
    def evaluate(*models):
        return json.loads(run_cli("evaluate", *map(str, models), "--data", str(fer_path),
                                  "--split", "val", "--limit", "300", "--json").stdout)

    single = evaluate(exported / "model.onnx")
    twice = evaluate(exported / "model.onnx", trained_run / "best.pt")
    assert twice["model"].count(" + ") == 1 and twice["n"] == 300
    assert abs(twice["accuracy"] - single["accuracy"]) < 0.01  # the same model twice
    mixed = evaluate(exported / "model.onnx", exported / "model.int8.onnx")
    assert np.array(mixed["confusion"]).sum() == 300
