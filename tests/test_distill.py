"""Distillation, CPU mixed precision and ensembles: the pieces that close the accuracy gap."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from helpers import REPO, assert_one_line_error, load_script, run_cli

from edgefer.data import EMOTIONS, load_faces
from edgefer.data.ferplus import vote_shares
from edgefer.preprocess import Preprocess
from edgefer.runtime import EmotionClassifier
from edgefer.train.checkpoint import load_checkpoint
from edgefer.train.distill import Teacher, kd_loss, with_votes
from edgefer.train.precision import autocast_dtype, cpu_trains_faster_in_bf16


def test_kd_loss_is_zero_only_when_the_student_matches():
    z = torch.randn(16, 7)
    assert kd_loss(z, (z / 4).softmax(1), 4.0).abs() < 1e-5
    assert kd_loss(z, (torch.randn(16, 7) / 4).softmax(1), 4.0) > 0.01


def test_votes_join_the_teachers_as_one_more_member():
    targets = torch.full((3, 7), 1 / 7)
    shares = torch.zeros(3, 7)
    shares[0, 0], shares[1, :3] = 1.0, torch.tensor([0.6, 0.3, 0.1])  # row 2: no vote
    plain = with_votes(targets, shares, 0.2, 1.0)
    assert torch.allclose(plain[:2], 0.8 * targets[:2] + 0.2 * shares[:2], atol=1e-6)
    assert torch.equal(plain[2], targets[2])  # no vote: the teachers alone
    soft = with_votes(targets, shares, 0.2, 4.0)
    assert torch.allclose(soft.sum(1), torch.ones(3), atol=1e-6)
    assert soft[1, 0] > soft[1, 1] > soft[1, 2] > soft[1, 3]  # tempered, in the votes' order
    assert soft[1, 0] - 0.8 / 7 < 0.2 * 0.6  # and softer than the shares
    assert torch.equal(with_votes(targets, shares, 0.0, 4.0), targets)


def test_teacher_targets_score_the_teachers_then_the_votes(small_npz, tmp_path, capsys):
    """benchmarks/teacher_targets.py: weight 0 is the teacher's own accuracy; a weight near 1
    is FER+'s majority's."""
    model = REPO / "edgefer" / "assets" / "edge.onnx"
    load_script(REPO / "benchmarks" / "teacher_targets.py").main(
        ["--data", str(small_npz), "--teacher", str(model), "--weights", "0", "0.1", "0.99",
         "--out", str(tmp_path / "t")])
    figures = json.loads((tmp_path / "t.json").read_text())["figures"]
    val = load_faces(small_npz).split("val")
    own = (EmotionClassifier(model).predict_probs(val.images).argmax(1) == val.labels).mean()
    shares = vote_shares(val, small_npz)
    majority = (shares.argmax(1) == val.labels)[shares.sum(1) > 0]
    acc = figures["accuracy"]
    assert figures["n"] == len(val) and acc["0"] == pytest.approx(own, abs=1e-9)
    assert acc["0.99"] == pytest.approx(majority.mean(), abs=0.01) and acc["0.99"] < own


def test_teacher_sets_rank_every_set_by_its_targets(small_npz, tmp_path):
    """benchmarks/teacher_sets.py: each set of N teachers is scored once, its accuracy that of
    the averaged probabilities, and the list runs best first."""
    models = [REPO / "edgefer" / "assets" / f"{name}.onnx" for name in ("edge", "edge-s")]
    load_script(REPO / "benchmarks" / "teacher_sets.py").main(
        ["--data", str(small_npz), "--teacher", *map(str, models), "--out", str(tmp_path / "t")])
    sets = json.loads((tmp_path / "t.json").read_text())["figures"]["sets"]
    val = load_faces(small_npz).split("val")
    probs = {m.stem: EmotionClassifier(m).predict_probs(val.images) for m in models}
    assert sorted(len(s["teachers"]) for s in sets) == [1, 1, 2]
    for s in sets:
        mean = np.mean([probs[t] for t in s["teachers"]], axis=0)
        assert s["cross_entropy"] == pytest.approx(
            -np.log(mean[np.arange(len(val)), val.labels]).mean(), rel=1e-3)
        if len(s["teachers"]) == 1:  # tempering keeps a lone teacher's most likely class
            assert s["accuracy"] == pytest.approx((mean.argmax(1) == val.labels).mean())
    assert [s["accuracy"] for s in sets] == sorted((s["accuracy"] for s in sets), reverse=True)


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


def test_fp32_onnx_teachers_run_in_torch_under_the_students_autocast(exported, fer):
    """An fp32 ONNX teacher is rebuilt in PyTorch: the file's own probabilities in fp32, and
    bf16 ones under the student's bf16 autocast; an int8 file runs on onnxruntime, whose
    answers no autocast changes."""
    faces = fer.split("val").images[:64]
    x = torch.from_numpy(Preprocess()(faces))
    cpu = torch.device("cpu")
    for name in ("model.onnx", "model.int8.onnx"):
        want = torch.from_numpy(EmotionClassifier(exported / name).predict_probs(faces))
        fp32, bf16 = (Teacher([str(exported / name)], Preprocess(), list(EMOTIONS), cpu,
                              dtype=dtype).soft_targets(x, 1.0)
                      for dtype in (None, torch.bfloat16))
        assert torch.allclose(fp32, want, atol=1e-5)
        if name == "model.onnx":
            assert not torch.equal(bf16, fp32) and torch.allclose(bf16, fp32, atol=0.05)
        else:
            assert torch.equal(bf16, fp32)


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
            "--teacher-votes", "0.1",
            "--corrupt", "0.5", "--mixup", "0.2", "--cutmix", "1.0", "--sam", "0.05",
            "--out", str(out))
    cfg = load_checkpoint(out)["config"]
    assert cfg["teacher"] == teachers.split(",") and cfg["kd_weight"] == 0.9
    assert cfg["teacher_flip"] and cfg["teacher_votes"] == 0.1
    assert (cfg["corrupt"], cfg["mixup"], cfg["cutmix"], cfg["sam"]) == (0.5, 0.2, 1.0, 0.05)
    bad = run_cli("train", "--data", str(small_npz), "--teacher", str(tmp_path / "nope.pt"),
                  "--out", str(tmp_path / "x"), check=False)
    assert_one_line_error(bad, "checkpoint not found")
    bad = run_cli("train", "--data", str(small_npz), "--teacher-flip", "--out",
                  str(tmp_path / "y"), check=False)
    assert_one_line_error(bad, "--teacher-flip needs --teacher")
    bad = run_cli("train", "--data", str(small_npz), "--teacher", teachers, "--teacher-votes",
                  "0.1", "--labels", "ferplus", "--out", str(tmp_path / "z"), check=False)
    assert_one_line_error(bad, "--teacher-votes is for the FER2013 labels")


def test_bf16_where_the_cpu_trains_faster_in_it(tmp_path):
    info = tmp_path / "cpuinfo"
    intel, amd = "vendor_id\t: GenuineIntel\n", "vendor_id\t: AuthenticAMD\n"
    info.write_text(intel + "flags\t\t: fpu avx2 avx512f avx512_bf16 amx_bf16 amx_tile\n")
    assert cpu_trains_faster_in_bf16(info)
    info.write_text(intel + "flags\t\t: fpu avx2 avx512f avx512_bf16 avx512_vnni\n")
    assert not cpu_trains_faster_in_bf16(info)  # bf16 dot products on Intel: slower than fp32
    info.write_text(amd + "flags\t\t: fpu avx2 avx512f avx512_bf16 avx512_vnni\n")
    assert cpu_trains_faster_in_bf16(info)  # on AMD (Zen 4): 1.8x faster
    info.write_text("processor\t: 0\nflags\t\t: fpu sse avx2 fma\n")
    assert not cpu_trains_faster_in_bf16(info)
    info.write_text("processor\t: 0\nFeatures\t: fp asimd bf16 i8mm\n")  # Arm
    assert cpu_trains_faster_in_bf16(info)
    assert not cpu_trains_faster_in_bf16(tmp_path / "missing")


def test_amp_falls_back_to_fp32_with_a_note(monkeypatch):
    import edgefer.train.precision as precision

    cpu = torch.device("cpu")
    monkeypatch.setattr(precision, "cpu_trains_faster_in_bf16", lambda: False)
    dtype, note = autocast_dtype(True, cpu)
    assert dtype is None and "training in fp32" in note
    monkeypatch.setattr(precision, "cpu_trains_faster_in_bf16", lambda: True)
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
