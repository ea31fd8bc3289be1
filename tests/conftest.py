"""Shared fixtures: the real FER2013 data (found like the CLI finds it) and small subsets."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from helpers import REPO, data_path, run_cli

SLOW_FIXTURES = {"trained_run", "exported"}  # each trains or exports a model


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that needs a trained or exported model is slow by definition: mark it, so
    `make test-fast` (-m "not slow") skips it without a marker to forget."""
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)



@pytest.fixture(scope="session")
def fer_path() -> Path:
    """The full FER2013 npz. Missing: a failure under CI, a loud skip elsewhere."""
    path = data_path()
    if not path.exists():
        message = (f"FER2013 not found at {path}: set EDGEFER_DATA or place the shared data "
                   "beside the repo (../shared/data/fer2013/fer2013.npz)")
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def fer(fer_path):
    from edgefer.data import load_faces

    return load_faces(fer_path)


@pytest.fixture(scope="session")
def small_npz(fer, fer_path, tmp_path_factory) -> Path:
    """A fixed subset of the real data: 700 train, 350 val, 350 test faces (stratified), with
    their FER+ votes beside it in row order, as the full set has them."""
    parts = [fer.split(s).sample(n, seed=0) for s, n in (("train", 700), ("val", 350),
                                                          ("test", 350))]
    path = tmp_path_factory.mktemp("data") / "small.npz"
    np.savez(path,
             pixels=np.concatenate([p.images for p in parts]),
             emotion=np.concatenate([p.labels for p in parts]).astype(np.uint8),
             usage=np.concatenate([p.splits for p in parts]))
    header, *lines = (fer_path.parent / "fer2013new.csv").read_text().splitlines()
    (path.parent / "fer2013new.csv").write_text(
        "\n".join([header, *(lines[r] for p in parts for r in p.rows)]) + "\n")
    return path


@pytest.fixture(scope="session")
def trained_run(fer_path, tmp_path_factory) -> Path:
    """edge-s trained for one epoch on 4,000 real Training faces (about 25 s on 2 cores; on
    2,000 some CPUs' float rounding left it at the majority class's val accuracy)."""
    out = tmp_path_factory.mktemp("runs") / "edge-s"
    run_cli("train", "--data", str(fer_path), "--model", "edge-s", "--epochs", "1",
            "--limit", "4000", "--batch-size", "8", "--lr", "1e-3", "--warmup-epochs", "0",
            "--augment", "none", "--out", str(out))
    return out


@pytest.fixture(scope="session")
def exported(trained_run, fer_path, tmp_path_factory) -> Path:
    """trained_run exported to model.onnx and model.int8.onnx."""
    out = tmp_path_factory.mktemp("export")
    proc = run_cli("export", str(trained_run), "--int8", "--data", str(fer_path), "--out",
                   str(out), "--calib-size", "300", "--latency-runs", "50")
    assert "int8 vs fp32" in proc.stdout
    return out


@pytest.fixture(scope="session")
def photo(yunet) -> Path:
    """The shared real photo with one face (OpenCV's astronaut test image)."""
    path = yunet.parent / "testdata" / "astronaut.png"
    assert path.exists(), f"{path} missing"
    return path


@pytest.fixture(scope="session")
def yunet(fer_path) -> Path:
    """The shared YuNet face detector file."""
    path = Path(os.environ.get("EDGEFER_DETECTOR") or
                REPO.parent / "shared" / "models" / "face_detection_yunet_2023mar.onnx")
    if not path.exists():
        message = f"YuNet not found at {path}: set EDGEFER_DETECTOR"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path
