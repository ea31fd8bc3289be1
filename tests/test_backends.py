"""Backends beyond onnxruntime: OpenVINO, ncnn and LiteRT give the onnxruntime figures, exports
in their formats carry the metadata, and bad models or missing extras are one-line errors."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from helpers import assert_one_line_error, run_cli

from edgefer.errors import EdgeferError
from edgefer.export.report import ExportReport
from edgefer.runtime import EmotionClassifier
from edgefer.runtime.assets import ASSETS

# the default shipped model's files
FP32, INT8, NCNN, TFLITE = (ASSETS / f"edge{s}"
                            for s in (".onnx", ".int8.onnx", ".ncnn.param", ".int8.tflite"))


@pytest.fixture(scope="module")
def test_split(fer):
    return fer.split("test")


@pytest.fixture(scope="module")
def onnxruntime_probs(test_split):
    """onnxruntime's probabilities on PrivateTest for each shipped ONNX file."""
    return {p: EmotionClassifier(p, backend="ort-cpu").predict_probs(test_split.images)
            for p in (FP32, INT8)}


@pytest.mark.parametrize(("model", "backend", "twin"), [
    (FP32, "openvino", FP32), (INT8, "openvino", INT8), (NCNN, "ncnn", FP32),
    (FP32, "opencv", FP32)])
def test_backend_matches_onnxruntime_on_privatetest(model, backend, twin, test_split,
                                                    onnxruntime_probs):
    """The whole PrivateTest split: within 0.3 point of onnxruntime on the same (or the
    source) file, 0.5 in int8 (each runtime's int8 kernels round differently), and the same
    prediction for nearly every face."""
    clf = EmotionClassifier(model, backend=backend)
    assert clf.backend == backend
    ref = EmotionClassifier(twin, backend="ort-cpu")
    probs, ref_probs = clf.predict_probs(test_split.images), onnxruntime_probs[twin]
    acc = (probs.argmax(1) == test_split.labels).mean()
    ref_acc = (ref_probs.argmax(1) == test_split.labels).mean()
    assert abs(acc - ref_acc) <= (0.005 if clf.meta.precision == "int8" else 0.003)
    assert (probs.argmax(1) == ref_probs.argmax(1)).mean() >= 0.97
    assert clf.labels == ref.labels and clf.preprocess == ref.preprocess


def test_litert_int8_matches_onnxruntime_int8_on_privatetest(test_split, onnxruntime_probs):
    """The shipped int8 LiteRT file (quantized by its own converter on the same calibration
    faces as the int8 ONNX file): within 0.5 point of onnxruntime on the int8 ONNX file, the
    same prediction for nearly every face."""
    probs = EmotionClassifier(TFLITE, backend="litert").predict_probs(test_split.images)
    ref = onnxruntime_probs[INT8]
    acc, ref_acc = ((p.argmax(1) == test_split.labels).mean() for p in (probs, ref))
    assert abs(acc - ref_acc) <= 0.005
    assert (probs.argmax(1) == ref.argmax(1)).mean() >= 0.95
    assert abs(probs.sum(1) - 1).max() < 0.02


def test_auto_backend_follows_the_model_format_and_default_models():
    assert EmotionClassifier(NCNN).backend == "ncnn"
    assert EmotionClassifier(backend="ncnn").path == NCNN
    assert EmotionClassifier(backend="opencv").path == FP32  # OpenCV DNN mis-runs int8
    assert EmotionClassifier(backend="openvino").path == INT8
    assert EmotionClassifier(NCNN).meta.precision == "fp16"
    assert EmotionClassifier(TFLITE).backend == "litert"
    assert EmotionClassifier(backend="litert").path == TFLITE
    assert EmotionClassifier("edge-s", backend="litert").meta.precision == "int8"


@pytest.mark.parametrize("model", [NCNN, TFLITE])
def test_one_face_and_a_batch_agree(model, test_split):
    clf = EmotionClassifier(model)
    faces = test_split.images[:5]
    batch = clf.predict_batch(list(faces))
    assert [clf.predict(f) for f in faces] == batch
    assert clf.predict_probs(faces[:0]).shape == (0, 7)


def test_backend_and_format_mismatches_are_clear(tmp_path):
    cases = [(INT8, "ncnn", "backend ncnn cannot run onnx models"),
             (NCNN, "ort-cpu", "backend ort-cpu cannot run ncnn models"),
             (NCNN, "tpu", "unknown backend 'tpu'")]
    for model, backend, message in cases:
        with pytest.raises(EdgeferError, match=message):
            EmotionClassifier(model, backend=backend)
    (tmp_path / "model.tfl").write_bytes(b"x")
    with pytest.raises(EdgeferError, match="not a model file edgefer runs"):
        EmotionClassifier(tmp_path / "model.tfl")
    with pytest.raises(EdgeferError, match="backend litert cannot run onnx models"):
        EmotionClassifier(INT8, backend="litert")


def test_corrupt_and_foreign_models_on_each_backend(tmp_path, yunet):
    for suffix in (".param", ".bin"):
        shutil.copyfile(NCNN.with_suffix(suffix), tmp_path / f"m.ncnn{suffix}")
    with pytest.raises(EdgeferError, match=r"m.ncnn.json is missing"):
        EmotionClassifier(tmp_path / "m.ncnn.param")
    shutil.copyfile(NCNN.with_suffix(".json"), tmp_path / "m.ncnn.json")
    EmotionClassifier(tmp_path / "m.ncnn.param")  # complete again: loads
    (tmp_path / "m.ncnn.param").write_text("7767517\nnot a param file\n")
    with pytest.raises(EdgeferError, match=r"not an ncnn \.param file|ncnn cannot load"):
        EmotionClassifier(tmp_path / "m.ncnn.param")
    (tmp_path / "m.xml").write_text("<net>truncated")
    with pytest.raises(EdgeferError, match="OpenVINO cannot read it"):
        EmotionClassifier(tmp_path / "m.xml")
    with pytest.raises(EdgeferError, match="no 'edgefer' metadata"):  # a real foreign model
        EmotionClassifier(yunet.parent / "fer_mini_xception_fer2013.onnx", backend="openvino")
    (tmp_path / "m.tflite").write_bytes(TFLITE.read_bytes()[:4000])  # truncated
    with pytest.raises(EdgeferError, match=r"m.tflite: LiteRT cannot load it"):
        EmotionClassifier(tmp_path / "m.tflite")
    (tmp_path / "m.tflite").write_bytes(INT8.read_bytes())
    with pytest.raises(EdgeferError, match=r"not a LiteRT \(.tflite\) model"):
        EmotionClassifier(tmp_path / "m.tflite")
    (tmp_path / "m.tflite").write_bytes(_without_metadata(TFLITE.read_bytes()))
    with pytest.raises(EdgeferError, match="no 'edgefer' metadata"):
        EmotionClassifier(tmp_path / "m.tflite")


def _without_metadata(model: bytes) -> bytes:
    """A LiteRT model with its metadata table emptied: a foreign .tflite file."""
    from ai_edge_litert.tools import flatbuffer_utils

    obj = flatbuffer_utils.read_model_from_bytearray(bytearray(model))
    obj.metadata = []
    return bytes(flatbuffer_utils.convert_object_to_bytearray(obj))


@pytest.mark.parametrize(("module", "model", "backend", "extra"), [
    ("openvino", INT8, "openvino", "openvino"), ("ai_edge_litert", TFLITE, "auto", "litert")])
def test_missing_extra_names_it(module, model, backend, extra, monkeypatch):
    import edgefer.errors

    monkeypatch.setattr(edgefer.errors, "installed", lambda name: name != module)
    with pytest.raises(EdgeferError, match=rf"pip install 'edgefer\[{extra}\]'"):
        EmotionClassifier(model, backend=backend)


def test_export_formats_carry_metadata_and_measure(exported, small_npz, tmp_path):
    out = tmp_path / "formats"
    proc = run_cli("export", str(exported / "model.onnx"), "--int8", "--data", str(small_npz),
                   "--out", str(out), "--calib-size", "50", "--latency-runs", "5",
                   "--max-drop", "100", "--format", "openvino", "--format", "ncnn",
                   "--format", "tflite")
    assert "ncnn fp16" in proc.stdout and "openvino int8" in proc.stdout
    assert "tflite int8" in proc.stdout
    names = {p.name for p in out.iterdir()}
    assert names >= {"model.xml", "model.bin", "model.int8.xml", "model.int8.bin",
                     "model.ncnn.param", "model.ncnn.bin", "model.ncnn.json", "model.tflite",
                     "model.int8.tflite"}
    report = ExportReport.from_dict(json.loads((out / "export_report.json").read_text()))
    assert set(report.formats) == {"openvino fp32", "openvino int8", "ncnn fp16",
                                   "tflite fp32", "tflite int8"}
    onnx_meta = {p: EmotionClassifier(out / f"model{s}.onnx").meta
                 for p, s in (("fp32", ""), ("int8", ".int8"))}
    for key, figures in report.formats.items():
        clf = EmotionClassifier(figures.file)
        twin = onnx_meta["int8" if key.endswith("int8") else "fp32"]
        assert clf.labels == twin.labels and clf.preprocess == twin.preprocess
        assert clf.meta.arch == twin.arch and clf.meta.metrics["test_acc"] == \
            pytest.approx(figures.test_acc)
        # LiteRT quantizes on its own (50 faces here): on this near-chance one-epoch model,
        # near-ties flip more (94.3% on an AMD EPYC Zen 5); the shipped file is held to 95%
        least = 0.9 if key == "tflite int8" else 0.95
        assert figures.agreement["test"] >= least and figures.bytes > 0
        if key == "tflite int8":  # its own quantization, on the same calibration faces
            same = ("samples", "seed", "split")
            assert {k: clf.meta.calibration[k] for k in same} == \
                {k: twin.calibration[k] for k in same}
            assert clf.meta.calibration["format"] == "LiteRT full integer"
        else:
            assert clf.meta.calibration == twin.calibration
    assert EmotionClassifier(out / "model.int8.xml").meta.precision == "int8"
    assert EmotionClassifier(out / "model.int8.tflite").meta.precision == "int8"
    proc = run_cli("export", str(exported / "model.onnx"), "--data", str(small_npz),
                   "--out", str(tmp_path / "x"), "--format", "coreml", check=False)
    assert_one_line_error(proc, "unknown format 'coreml'")


def test_evaluate_and_detect_take_a_backend(photo):
    for backend, file in (("ncnn", "edge.ncnn.param"), ("litert", "edge.int8.tflite")):
        result = json.loads(run_cli("evaluate", "--backend", backend, "--limit", "100",
                                    "--json").stdout)
        assert result["backend"] == backend and result["model"].endswith(file)
    line = json.loads(run_cli("detect", "--source", str(photo), "--backend", "openvino",
                              "--json").stdout)
    assert [f["emotion"] for f in line["faces"]] == ["happy"]
    probs = EmotionClassifier(backend="openvino").predict_probs(np.zeros((1, 48, 48), np.uint8))
    assert probs.shape == (1, 7) and abs(probs.sum() - 1) < 1e-4
