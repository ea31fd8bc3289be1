"""The one preprocessing definition: shapes, colour handling, normalisation, round trip."""

import numpy as np
import pytest

from edgefer.errors import EdgeferError
from edgefer.preprocess import Preprocess


def test_fer_faces_fast_path_matches_general_path(fer):
    spec = Preprocess()
    faces = fer.images[:16]
    fast = spec(faces)
    slow = spec(list(faces))
    assert fast.shape == (16, 1, 48, 48) and fast.dtype == np.float32
    assert np.array_equal(fast, slow)
    assert np.allclose(fast, (faces[:, None] / 255.0 - 128 / 255) / 0.25, atol=1e-6)


@pytest.mark.parametrize("shape", [(48, 48), (96, 80), (30, 30, 1), (64, 64, 3), (64, 64, 4)])
def test_any_gray_bgr_bgra_size(shape):
    img = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    assert Preprocess()([img]).shape == (1, 1, 48, 48)


def test_bgr_gray_and_16_bit_agree():
    gray = np.random.default_rng(1).integers(0, 256, (48, 48), dtype=np.uint8)
    bgr = np.repeat(gray[:, :, None], 3, axis=2)
    wide = gray.astype(np.uint16) << 8
    spec = Preprocess()
    assert np.allclose(spec([gray]), spec([bgr]), atol=1e-5)
    assert np.array_equal(spec([gray]), spec([wide]))


def test_rgb_nhwc_spec():
    spec = Preprocess(size=(64, 64), channels=3, layout="NHWC", range=(0, 1),
                      mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))
    bgr = np.zeros((10, 10, 3), np.uint8)
    bgr[..., 2] = 255  # pure red in BGR order
    x = spec([bgr])
    assert x.shape == (1, 64, 64, 3)
    assert np.allclose(x[0, 0, 0], [1.0, -1.0, -1.0])


def test_round_trip_and_bad_descriptions():
    spec = Preprocess()
    assert Preprocess.from_dict(spec.to_dict()) == spec
    for bad in ({}, {"size": [48]}, "json", {**spec.to_dict(), "layout": "CHW"},
                {**spec.to_dict(), "std": [0.0]}, {**spec.to_dict(), "size": [48, 4096]}):
        with pytest.raises(EdgeferError):
            Preprocess.from_dict(bad)


@pytest.mark.parametrize("img", [np.zeros((48, 48), np.float32), np.zeros((4, 4, 2), np.uint8),
                                 np.zeros((0, 5), np.uint8)])
def test_bad_crops_are_refused(img):
    with pytest.raises(EdgeferError):
        Preprocess()([img])


def test_the_default_input_lies_on_its_uint8_grid():
    step, zero = Preprocess().uint8_grid()
    assert (step, zero) == (pytest.approx(4 / 255), 128)
    levels = np.resize(np.arange(256, dtype=np.uint8), (48, 48))  # every level, unresized
    x = Preprocess()([levels])
    assert np.array_equal(np.round(x / np.float32(step)).astype(int) + zero, levels[None, None])
    assert Preprocess(mean=(0.5,)).uint8_grid() is None  # 0 falls between levels 127 and 128
    assert Preprocess(channels=3, mean=(0.0,) * 3, std=(1.0, 1.0, 0.5)).uint8_grid() is None
    assert Preprocess(channels=3, mean=(0.0,) * 3, std=(1.0,) * 3).uint8_grid() == (1 / 255, 0)


@pytest.mark.parametrize("other", [
    Preprocess(mean=(0.5,)), Preprocess(range=(-1.0, 1.0), mean=(0.1,), std=(0.7,))])
def test_affine_to_maps_one_normalisation_onto_another(other):
    faces = np.random.default_rng(2).integers(0, 256, (4, 48, 48), dtype=np.uint8)
    scale, shift = Preprocess().affine_to(other)
    assert np.allclose(Preprocess()(faces) * scale[:, None, None] + shift[:, None, None],
                       other(faces), atol=1e-5)
    assert Preprocess().affine_to(Preprocess(size=(64, 64))) is None
