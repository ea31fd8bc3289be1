"""`edgefer export`: self-describing fp32/int8 ONNX files, fidelity, report, bad input."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
import torch
from helpers import assert_one_line_error, run_cli

from edgefer.errors import EdgeferError
from edgefer.export.report import ExportReport
from edgefer.preprocess import Preprocess
from edgefer.runtime import EmotionClassifier
from edgefer.runtime.assets import SHIPPED, shipped_file
from edgefer.train.checkpoint import load_checkpoint, model_from_checkpoint


def weight_ranges(path) -> list[int]:
    """The largest |int8 weight| of each quantized layer of an int8 file, in graph order."""
    model = onnx.load(str(path))
    return [int(np.abs(onnx.numpy_helper.to_array(t).astype(int)).max())
            for t in model.graph.initializer if t.name.endswith("weight_quantized")]


def test_files_are_valid_onnx_with_dynamic_batch(exported):
    for name in ("model.onnx", "model.int8.onnx"):
        model = onnx.load(str(exported / name))
        onnx.checker.check_model(model, full_check=True)
        assert max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx")) >= 17
        assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_param
    ops = {n.op_type for n in onnx.load(str(exported / "model.onnx")).graph.node}
    assert "BatchNormalization" not in ops  # folded into the convolutions
    ops8 = [n.op_type for n in onnx.load(str(exported / "model.int8.onnx")).graph.node]
    assert "QuantizeLinear" in ops8 and "DequantizeLinear" in ops8
    stem, *rest = weight_ranges(exported / "model.int8.onnx")  # --reduce-range stem, the default
    assert stem <= 64 and rest and all(r == 127 for r in rest)


def test_metadata_round_trip(exported):
    fp32 = EmotionClassifier(exported / "model.onnx")
    int8 = EmotionClassifier(exported / "model.int8.onnx")
    for clf, precision in ((fp32, "fp32"), (int8, "int8")):
        stored = {p.key: p.value for p in onnx.load(str(clf.path)).metadata_props}
        meta = json.loads(stored["edgefer"])  # what the file holds, as written by export
        assert clf.meta.precision == meta["precision"] == precision
        assert meta["format"] == "edgefer-model" and meta["version"] == 1
        assert meta["labels"] == ["angry", "disgust", "fear", "happy", "sad", "surprise",
                                  "neutral"]
        assert clf.meta.preprocess == Preprocess()
        assert meta["input"] == {"size": [48, 48], "channels": 1, "layout": "NCHW",
                                 "range": [0.0, 1.0], "mean": [128 / 255], "std": [0.25]}
        assert meta["arch"] == "edge-s" and meta["params"] > 0
        assert set(meta["metrics"]) >= {"val_acc", "test_acc"}
    assert int8.meta.calibration["method"] == "minmax"
    assert 290 <= int8.meta.calibration["samples"] <= 310
    assert fp32.meta.calibration is None
    assert int8.meta.calibration["input"] == "uint8 grid"


def test_int8_input_keeps_every_grey_level(exported):
    """The default input is quantized on its uint8 grid, not by calibration: grey level p
    becomes the uint8 value p itself (scale 4/255, zero point 128)."""
    from onnx import numpy_helper

    graph = onnx.load(str(exported / "model.int8.onnx")).graph
    node = next(n for n in graph.node
                if n.op_type == "QuantizeLinear" and n.input[0] == graph.input[0].name)
    init = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    scale, zero_point = init[node.input[1]], init[node.input[2]]
    assert zero_point.dtype == np.uint8 and int(zero_point) == 128
    levels = np.resize(np.arange(256, dtype=np.uint8), (48, 48))  # every level, unresized
    q = np.clip(np.round(Preprocess()([levels]) / scale) + zero_point, 0, 255)
    assert np.array_equal(q[0, 0], levels)


def test_onnx_matches_pytorch(exported, trained_run, fer):
    model, spec, _ = model_from_checkpoint(load_checkpoint(trained_run))
    faces = fer.split("val").images[:64]
    with torch.no_grad():
        ref = model(torch.from_numpy(spec(faces))).softmax(1).numpy()
    got = EmotionClassifier(exported / "model.onnx").predict_probs(faces)
    assert np.abs(got - ref).max() < 1e-4


def test_int8_agrees_with_fp32(exported, fer):
    faces = fer.split("val").images[:500]
    a = EmotionClassifier(exported / "model.onnx").predict_probs(faces).argmax(1)
    b = EmotionClassifier(exported / "model.int8.onnx").predict_probs(faces).argmax(1)
    assert (a == b).mean() >= 0.95


def test_report(exported):
    report = json.loads((exported / "export_report.json").read_text())
    assert report["passed"] is True
    c = report["comparison"]
    assert set(c) >= {"val_drop_points", "agreement", "max_prob_diff", "size_ratio",
                      "speedup_1thread_b1"}
    assert c["size_ratio"] < 0.35
    assert report["torch_max_abs_diff"] < 1e-4
    for name in ("fp32", "int8"):
        assert report[name]["latency_ms_1thread_b1"]["p50"] > 0
    assert report["int8"]["bytes"] == (exported / "model.int8.onnx").stat().st_size
    assert report["machine"]["cores"] >= 1
    assert ExportReport.from_dict(report).to_dict() == report  # one typed record, both ways


def test_evaluate_accepts_onnx(exported, fer_path):
    result = json.loads(run_cli("evaluate", str(exported / "model.int8.onnx"), "--data",
                                str(fer_path), "--split", "val", "--json").stdout)
    meta = EmotionClassifier(exported / "model.int8.onnx").meta
    assert result["n"] == 3589
    assert result["accuracy"] == pytest.approx(meta.metrics["val_acc"], abs=1e-9)


def test_opencv_backend_matches_ort_and_refuses_int8(exported, fer):
    faces = fer.split("test").images[:32]
    ort_probs = EmotionClassifier(exported / "model.onnx").predict_probs(faces)
    cv_probs = EmotionClassifier(exported / "model.onnx", backend="opencv").predict_probs(faces)
    assert np.abs(ort_probs - cv_probs).max() < 1e-4
    with pytest.raises(EdgeferError, match="fp32 models only"):
        EmotionClassifier(exported / "model.int8.onnx", backend="opencv")


def test_foreign_and_corrupt_models(tmp_path, exported):
    (tmp_path / "random.onnx").write_bytes(np.random.default_rng(0).bytes(5000))
    with pytest.raises(EdgeferError, match="not a loadable ONNX model"):
        EmotionClassifier(tmp_path / "random.onnx")
    data = (exported / "model.onnx").read_bytes()
    (tmp_path / "trunc.onnx").write_bytes(data[: len(data) // 2])
    with pytest.raises(EdgeferError, match="not a loadable ONNX model"):
        EmotionClassifier(tmp_path / "trunc.onnx")
    model = onnx.load(str(exported / "model.onnx"))
    del model.metadata_props[:]
    onnx.save(model, str(tmp_path / "bare.onnx"))
    with pytest.raises(EdgeferError, match="no 'edgefer' metadata"):
        EmotionClassifier(tmp_path / "bare.onnx")


def test_foreign_onnx_from_another_task(yunet):
    with pytest.raises(EdgeferError, match="not an edgefer model"):
        EmotionClassifier(yunet)


def _no_models(out):
    return not out.exists() or not [p for p in out.rglob("*") if p.suffix == ".onnx"]


def test_bad_checkpoints(tmp_path, fer_path):
    out = tmp_path / "out"
    proc = run_cli("export", str(tmp_path / "missing.pt"), "--data", str(fer_path), "--out",
                   str(out), check=False)
    assert_one_line_error(proc, "checkpoint not found")
    torch.save({"weight": torch.zeros(3)}, tmp_path / "foreign.pt")
    proc = run_cli("export", str(tmp_path / "foreign.pt"), "--data", str(fer_path), "--out",
                   str(out), check=False)
    assert_one_line_error(proc, "not an edgefer checkpoint")
    assert _no_models(out)


def test_bad_data_and_options(trained_run, small_npz, tmp_path):
    no_train = tmp_path / "no_train.npz"
    with np.load(small_npz) as z:
        keep = z["usage"] != 0
        np.savez(no_train, pixels=z["pixels"][keep], emotion=z["emotion"][keep],
                 usage=z["usage"][keep])
    cases = [
        (["--data", str(no_train), "--int8"], "calibration needs Training faces"),
        (["--data", str(small_npz), "--int8", "--calib-size", "0"], "calib_size must be"),
        (["--data", str(small_npz), "--int8", "--calib-method", "kl"], "calib_method must"),
        (["--data", str(small_npz), "--int8", "--reduce-range", "x"], "reduce_range must"),
    ]
    for args, message in cases:
        out = tmp_path / "out"
        proc = run_cli("export", str(trained_run), "--out", str(out), *args, check=False)
        assert_one_line_error(proc, message)
        assert _no_models(out)
    blocker = tmp_path / "file"
    blocker.write_text("")
    proc = run_cli("export", str(trained_run), "--data", str(small_npz), "--out",
                   str(blocker / "sub"), check=False)
    assert_one_line_error(proc, "cannot write to")


def test_max_drop_gate_withholds_int8(trained_run, small_npz, tmp_path):
    out = tmp_path / "gate"
    proc = run_cli("export", str(trained_run), "--data", str(small_npz), "--out", str(out),
                   "--int8", "--calib-size", "50", "--latency-runs", "5", "--max-drop", "-100",
                   check=False)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "--calib-method entropy" in proc.stderr and "val drop" in proc.stdout
    assert (out / "model.onnx").exists() and not (out / "model.int8.onnx").exists()
    assert json.loads((out / "export_report.json").read_text())["passed"] is False
    assert not list(out.glob(".export-*"))


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_int8_agrees_with_its_fp32_twin_on_this_cpu(fer, name):
    """Full-range int8 weights saturate in the int16 sums of x86 CPUs without VNNI (AVX2):
    there an old shipped int8 model agreed with its fp32 twin on 78% of val faces and lost
    7 points. 7-bit weights in the stem (export's default; everywhere in older files) keep it
    within a fraction of a point anywhere."""
    val = fer.split("val")
    fp32, int8 = (EmotionClassifier(shipped_file(name, backend)) for backend in ("opencv", "auto"))
    assert fp32.meta.precision == "fp32" and int8.meta.precision == "int8"
    p32, p8 = (clf.predict_probs(val.images).argmax(1) for clf in (fp32, int8))
    assert (p32 == p8).mean() >= 0.97
    assert abs((p32 == val.labels).mean() - (p8 == val.labels).mean()) <= 0.005
    assert "7-bit" in int8.meta.calibration["weights"]


def test_requantize_from_fp32_onnx(exported, small_npz, tmp_path):
    out = tmp_path / "requant"
    run_cli("export", str(exported / "model.onnx"), "--int8", "--data", str(small_npz),
            "--out", str(out), "--calib-size", "50", "--latency-runs", "5", "--max-drop", "100",
            "--reduce-range", "all")
    meta = EmotionClassifier(out / "model.int8.onnx").meta
    assert meta.precision == "int8" and meta.arch == "edge-s"
    assert 45 <= meta.calibration["samples"] <= 55
    assert meta.calibration["weights"] == "int8 per-channel, 7-bit range"
    assert max(weight_ranges(out / "model.int8.onnx")) <= 64
    proc = run_cli("export", str(out / "model.int8.onnx"), "--int8", "--data", str(small_npz),
                   "--out", str(tmp_path / "x"), check=False)
    assert_one_line_error(proc, "export --int8 quantizes the fp32 twin")


def test_val_only_export_never_reads_test(exported, fer, tmp_path):
    """--val-only measures on val alone: data without a test split exports (a full export
    refuses it), and neither the report nor the file's metadata holds a test figure."""
    parts = [fer.split(s).sample(n, seed=0) for s, n in (("train", 300), ("val", 200))]
    data = tmp_path / "no-test.npz"
    np.savez(data, pixels=np.concatenate([p.images for p in parts]),
             emotion=np.concatenate([p.labels for p in parts]).astype(np.uint8),
             usage=np.concatenate([p.splits for p in parts]))
    args = ["export", str(exported / "model.onnx"), "--int8", "--data", str(data),
            "--calib-size", "50", "--latency-runs", "5", "--max-drop", "100"]
    assert_one_line_error(run_cli(*args, "--out", str(tmp_path / "full"), check=False),
                          "export measures accuracy on 'test', which is empty")
    out = tmp_path / "val-only"
    proc = run_cli(*args, "--out", str(out), "--val-only")
    assert "not read" in proc.stdout
    report = ExportReport.from_dict(json.loads((out / "export_report.json").read_text()))
    assert report.int8.test_acc is None and report.comparison.test_drop_points is None
    assert set(report.comparison.agreement) == {"val"}
    for name in ("model.onnx", "model.int8.onnx"):
        assert set(EmotionClassifier(out / name).meta.metrics) == {"val_acc"}
