"""benchmarks/weight_average.py: averaging the weights of students of one architecture."""

from __future__ import annotations

import json
import shutil

import numpy as np
import onnx
import pytest
from helpers import REPO, load_script
from onnx import numpy_helper

from edgefer.errors import EdgeferError

ASSETS = REPO / "edgefer" / "assets"


def weights(path):
    return {w.name: numpy_helper.to_array(w) for w in onnx.load(str(path)).graph.initializer}


def test_weights_are_averaged_name_by_name(exported, tmp_path):
    script = load_script(REPO / "benchmarks" / "weight_average.py")
    a, b = exported / "model.onnx", ASSETS / "edge-s.onnx"
    soup = weights(script.averaged([a, b], tmp_path / "soup.onnx"))
    wa, wb = weights(a), weights(b)
    assert soup.keys() == wa.keys()
    for name, w in soup.items():
        np.testing.assert_allclose(w, (wa[name] + wb[name]) / 2, rtol=1e-6, atol=1e-7)
    with pytest.raises(EdgeferError, match="differ in name or shape"):
        script.averaged([ASSETS / "edge.onnx", b], tmp_path / "x.onnx")


def test_a_model_averaged_with_its_copy_scores_as_itself(exported, small_npz, tmp_path):
    copy = tmp_path / "copy.onnx"
    shutil.copy(exported / "model.onnx", copy)
    load_script(REPO / "benchmarks" / "weight_average.py").main(
        ["--data", str(small_npz), str(exported / "model.onnx"), str(copy),
         "--out", str(tmp_path / "w")])
    figures = json.loads((tmp_path / "w.json").read_text())["figures"]
    original = str((exported / "model.onnx").resolve())
    assert figures["uniform"] == pytest.approx(figures["alone"][original], abs=1e-9)
    assert figures["greedy"]["members"] == [original, str(copy.resolve())]
