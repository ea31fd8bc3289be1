"""The camera corruptions (edgefer.corruptions) and the benchmark that reads them."""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import REPO, load_script

from edgefer.corruptions import CORRUPTIONS, corrupt, random_corruptions
from edgefer.errors import EdgeferError

corruption = load_script(REPO / "benchmarks" / "corruption.py")


@pytest.fixture(scope="module")
def faces(fer):
    return fer.split("val").sample(200, seed=0).images


@pytest.mark.parametrize("name", list(CORRUPTIONS))
def test_each_corruption_changes_faces_keeps_their_shape_and_is_seeded(name, faces):
    out = corrupt(faces, name, seed=3)
    assert out.shape == faces.shape and out.dtype == np.uint8
    assert np.abs(out.astype(int) - faces).mean() > 1  # a visible change, not a no-op
    assert np.array_equal(out, corrupt(faces, name, seed=3))
    assert np.array_equal(corrupt(faces[:5], name, seed=3)[:1], corrupt(faces[:1], name, 3)) \
        or name.startswith("noise")  # per-face transforms do not depend on the batch


def test_what_each_corruption_does(faces):
    f = faces.astype(float)
    assert corrupt(faces, "darker (gamma 2)").mean() < f.mean() < \
        corrupt(faces, "brighter (gamma 0.5)").mean()
    assert corrupt(faces, "half contrast").std(axis=(1, 2)).mean() == \
        pytest.approx(f.std(axis=(1, 2)).mean() / 2, rel=0.05)
    sharp = np.abs(np.diff(f, axis=2)).mean()
    for name in ("blur, sigma 1.5 px", "captured at 24 px", "captured at 16 px"):
        assert np.abs(np.diff(corrupt(faces, name).astype(float), axis=2)).mean() < sharp
    noisy = corrupt(faces, "noise, sigma 15").astype(float) - f
    assert 12 < noisy.std() < 16  # sigma 15, less what clipping at 0 and 255 takes
    assert not np.array_equal(corrupt(faces, "noise, sigma 15", 0),
                              corrupt(faces, "noise, sigma 15", 1))
    with pytest.raises(EdgeferError, match="unknown corruption 'fog'"):
        corrupt(faces, "fog")


def test_random_corruptions_touch_the_share_asked_and_replay_from_the_seed(faces):
    assert np.array_equal(random_corruptions(faces, 0.0, np.random.default_rng(0)), faces)
    out = random_corruptions(faces, 0.5, np.random.default_rng(1))
    changed = np.abs(out.astype(int) - faces).reshape(len(faces), -1).mean(1) > 0
    assert 0.35 < changed.mean() < 0.65 and out.dtype == np.uint8
    assert np.array_equal(out, random_corruptions(faces, 0.5, np.random.default_rng(1)))


def test_training_corruption_keeps_clean_faces_and_refuses_colour(faces):
    torch = pytest.importorskip("torch")
    from edgefer.preprocess import Preprocess
    from edgefer.train.augment import Corrupt

    spec = Preprocess()
    x = torch.from_numpy(spec(faces))
    assert Corrupt(0.0, spec)(x, torch.Generator()) is x
    assert torch.allclose(Corrupt(1e-9, spec)(x, torch.Generator()), x)  # uint8 round trip
    y = Corrupt(1.0, spec)(x, torch.Generator().manual_seed(0))
    assert y.shape == x.shape and (y - x).abs().flatten(1).amax(1).gt(0.01).float().mean() > 0.9
    with pytest.raises(EdgeferError, match="grayscale"):
        Corrupt(0.5, Preprocess(channels=3, mean=(0.5,) * 3, std=(0.25,) * 3))


def test_benchmark_costs_accuracy_under_blur(small_npz, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("EDGEFER_PEERS", raising=False)  # our model only
    corruption.main(["--data", str(small_npz), "--split", "val", "--out", str(tmp_path / "c")])
    result = json.loads((tmp_path / "c.json").read_text())
    (accuracy,) = result["figures"]["accuracy"].values()
    table = next(b["table"] for b in result["blocks"] if isinstance(b, dict))
    clean = table["rows"][0][1]
    assert len(accuracy) == len(CORRUPTIONS) and clean > 0.55
    assert accuracy[list(CORRUPTIONS).index("blur, sigma 1.5 px")] < clean - 0.1
