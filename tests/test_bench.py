"""`edgefer bench --quick`: JSON schema, consistent ratios, plot and markdown outputs."""

import json

import cv2
import pytest
from helpers import run_cli

from edgefer.runtime.assets import ASSETS


def test_quick_bench(trained_run, exported, fer_path, yunet, tmp_path):
    out = tmp_path / "bench.json"
    run_cli("bench", "--model", str(exported / "model.onnx"), "--model",
            str(ASSETS / "edge-s.ncnn.param"), "--model", str(exported / "model.int8.onnx"),
            "--data", str(fer_path), "--detector", str(yunet),
            "--peers", str(yunet.parent), "--checkpoint", str(trained_run / "best.pt"),
            "--quick", "--json", str(out), "--markdown",
            str(tmp_path / "bench.md"), "--plot", str(tmp_path / "bench.png"))
    results = json.loads(out.read_text())
    assert set(results) >= {"machine", "models", "pipeline", "quick"}
    assert set(results["machine"]) >= {"cpu", "cores", "onnxruntime", "opencv"}
    names = [(r["name"], r["backend"]) for r in results["models"]]
    assert {("edge-s fp32", "ort-cpu"), ("edge-s int8", "ort-cpu"), ("edge-s fp32", "openvino"),
            ("edge-s int8", "openvino"), ("edge-s fp16", "ncnn")} <= set(names)
    assert ("fer mini-Xception", "ort-cpu") in names
    for r in results["models"]:
        assert set(r) >= {"accuracy", "accuracy_unseen", "bytes", "load_ms", "rss_mb",
                          "latency", "accuracy_vs_ref_points"}
        assert r["n"] == 500 and 0 < r["accuracy"] < 1
        for e in r["latency"]:
            assert e["p50"] <= e["p90"] <= e["p99"]
            assert e["faces_per_s"] > 0 and e["p50_vs_ref"] > 0
    fp32, int8 = (next(r for r in results["models"] if r["name"] == f"edge-s {p}"
                       and r["backend"] == "ort-cpu") for p in ("fp32", "int8"))
    assert all(e["p50_vs_ref"] == 1 for e in int8["latency"])
    torch_row = next(r for r in results["models"] if r["backend"] == "torch")
    assert abs(torch_row["accuracy"] - fp32["accuracy"]) <= 1 / 500  # same network, torch and ORT
    assert results["pipeline"][0]["faces_found"] == 1 and results["pipeline"][0]["fps"] > 0
    md = (tmp_path / "bench.md").read_text()
    m = results["machine"]
    assert md.startswith(f"Machine: {m['cpu']}, {m['cores']} cores ({m['isa']}), onnxruntime ")
    assert "| model | backend |" in md and "| faces | threads | detect every |" in md
    img = cv2.imread(str(tmp_path / "bench.png"))
    assert img is not None and img.std() > 5


def test_cuda_backend_without_cuda_is_a_clear_error(exported, fer_path, yunet):
    import onnxruntime as ort
    from helpers import assert_one_line_error

    if "CUDAExecutionProvider" in ort.get_available_providers():
        pytest.skip("this onnxruntime has the CUDA provider: nothing to refuse")
    message = "backend ort-cuda: this onnxruntime build has no CUDA provider"
    proc = run_cli("bench", "--model", str(exported / "model.int8.onnx"), "--data",
                   str(fer_path), "--detector", str(yunet), "--peers", str(yunet.parent),
                   "--backend", "ort-cuda", check=False)
    assert_one_line_error(proc, message)
    photo = yunet.parent / "testdata" / "astronaut.png"
    proc = run_cli("detect", "--source", str(photo), "--model",
                   str(exported / "model.int8.onnx"), "--detector", str(yunet), "--backend",
                   "ort-cuda", check=False)
    assert_one_line_error(proc, message)
