"""benchmarks/calibration.py measures what `edgefer export --int8` ships, on val only."""

from __future__ import annotations

import pytest
from helpers import REPO, load_script

from edgefer.export.options import REDUCE_RANGES
from edgefer.runtime import EmotionClassifier
from edgefer.runtime.assets import ASSETS, DEFAULT

calibration = load_script(REPO / "benchmarks" / "calibration.py")


def test_sweep_reproduces_the_shipped_int8_model_on_val(fer):
    shipped = EmotionClassifier(DEFAULT)  # the default's int8 file
    calib, metrics = shipped.meta.calibration, shipped.meta.metrics
    val = fer.split("val")
    sweep = calibration.CalibrationSweep(ASSETS / f"{DEFAULT}.onnx", val)
    reduce_range = {text: name for name, text in REDUCE_RANGES.items()}[
        calib["weights"].removeprefix("int8 per-channel, ")]
    row = sweep.row(fer.split("train"), calib["method"], calib["samples"], calib["seed"],
                    reduce_range)
    assert sweep.base == pytest.approx(EmotionClassifier(ASSETS / f"{DEFAULT}.onnx").meta
                                 .metrics["val_acc"])
    assert row.val_acc == pytest.approx(metrics["val_acc"], abs=1 / len(val))
    assert row.drop_points == pytest.approx(100 * (sweep.base - row.val_acc))
    assert 0.9 < row.agreement < 1.0
    assert row.exact > 0.995  # no int16 saturation worth a face in 200 on this CPU


def test_histogram_calibrators_take_a_count_batches_do_not_divide(small_npz):
    from edgefer.data import load_faces

    faces = load_faces(small_npz)  # 70 faces: batches of 35, where 64 left a short last one
    sweep = calibration.CalibrationSweep(ASSETS / "edge-s.onnx", faces.split("val"))
    rows = [sweep.row(faces.split("train"), m, 70, 0) for m in ("entropy", "percentile")]
    assert [r.method for r in rows] == ["entropy", "percentile"]
