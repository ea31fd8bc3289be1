"""The onnxruntime YuNet engine finds what `cv2.FaceDetectorYN` finds, on real photos."""

from __future__ import annotations

import cv2
import numpy as np
import onnxruntime as ort
import pytest

from edgefer import Recognizer
from edgefer.errors import EdgeferError
from edgefer.runtime.face_detector import FaceDetector, pyramid
from edgefer.runtime.tracker import iou
from edgefer.runtime.yunet import OUTPUTS, decode, free_sizes


@pytest.fixture(scope="module")
def engines(yunet) -> dict[str, FaceDetector]:
    """Both engines, keeping every face (min_face 1) to compare them all."""
    return {e: FaceDetector(yunet, min_face=1, engine=e) for e in ("opencv", "ort")}


@pytest.fixture(scope="module")
def photos(photo, fer) -> dict[str, np.ndarray]:
    """The astronaut, and two recall-benchmark scenes of FER2013 test faces on real photos."""
    pytest.importorskip("skimage", reason="the scenes' photos come with scikit-image (dev extra)")
    from edgefer.bench.recall import make_scenes

    images = {"astronaut": cv2.imread(str(photo))}
    for s in make_scenes(fer.split("test"), sizes=(96, 256), backgrounds=("coffee.png",)):
        images[f"coffee-{s.face_size}"] = s.image
    return images


@pytest.mark.parametrize("det_size", [320, 640, None])
def test_ort_engine_matches_opencv(engines, photos, det_size):
    found = 0
    for name, image in photos.items():
        side = det_size or max(image.shape[:2])  # None: the image's own size
        ours, theirs = engines["ort"](image, side), engines["opencv"](image, side)
        assert len(ours) == len(theirs), name
        for a, b in zip(ours, theirs, strict=True):  # both best first
            assert iou(a.box, b.box) >= 0.99, name
            assert abs(a.score - b.score) < 1e-4
            np.testing.assert_allclose(a.landmarks, b.landmarks, atol=0.5)
        found += len(ours)
    assert found >= 3  # the astronaut and pasted faces: not an empty comparison


def test_input_size_changes_between_calls(engines, photo):
    image = cv2.imread(str(photo))
    for h, w, det_size in ((512, 512, 320), (200, 333, 640), (512, 512, 320), (97, 512, 512)):
        boxes = {e: [f.box for f in d(image[:h, :w], det_size)] for e, d in engines.items()}
        assert boxes["ort"] == boxes["opencv"], (h, w)
    assert engines["ort"](np.zeros((240, 320, 3), np.uint8)) == []


def test_free_sizes_keeps_rank_and_runs_any_size(yunet):
    session = ort.InferenceSession(free_sizes(yunet.read_bytes()),
                                   providers=["CPUExecutionProvider"])
    assert [isinstance(d, str) for d in session.get_inputs()[0].shape] == [True] * 4
    out = session.run(OUTPUTS, {"input": np.zeros((1, 3, 96, 160), np.float32)})
    assert out[0].shape == (1, 12 * 20, 1) and out[-1].shape == (1, 3 * 5, 10)


def test_decode_formula():
    """One stride-8 cell (col 1, row 2) of a 32x32 input: centre (col + dx) * 8, size
    exp(dw) * 8, landmarks (col + kx) * 8, score sqrt(cls * obj) with both clipped to [0, 1]."""
    out = {f"{k}_{s}": np.zeros((1, (32 // s) ** 2, n), np.float32)
           for k, n in (("cls", 1), ("obj", 1), ("bbox", 4), ("kps", 10)) for s in (8, 16, 32)}
    cell = 2 * 4 + 1
    out["cls_8"][0, cell], out["obj_8"][0, cell] = 1.5, 0.64
    out["bbox_8"][0, cell] = [0.5, 0.25, np.log(2), 0.0]
    out["kps_8"][0, cell] = [0.5, 1.0] * 5
    rows = decode(out, 32, 0.6)
    assert rows.shape == (1, 15)
    np.testing.assert_allclose(rows[0, :4], [12 - 8, 18 - 4, 16, 8], atol=1e-5)
    np.testing.assert_allclose(rows[0, 4:6], [12, 24], atol=1e-5)
    assert rows[0, 14] == pytest.approx(0.8)


def test_engine_threads_and_errors(yunet, tmp_path):
    det = FaceDetector(yunet, engine="ort", threads=1)
    assert det._detect.session.get_session_options().intra_op_num_threads == 1
    with pytest.raises(EdgeferError, match="unknown face detector engine 'tflite'"):
        FaceDetector(yunet, engine="tflite")
    with pytest.raises(EdgeferError, match="threads must be at least 1"):
        FaceDetector(yunet, engine="ort", threads=0)
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"\xff" * 64)
    other = tmp_path / "other.onnx"  # a valid ONNX model without YuNet's outputs
    other.write_bytes(yunet.read_bytes().replace(b"cls_8", b"cls_9"))
    for bad, engine in ((garbage, "opencv"), (garbage, "ort"), (other, "ort")):
        with pytest.raises(EdgeferError, match="not a YuNet face detector") as e:
            FaceDetector(bad, engine=engine)
        assert "\n" not in str(e.value)


def test_detection_size_below_32_is_refused(yunet):
    with pytest.raises(EdgeferError, match="at least 32 pixels, not 16"):
        FaceDetector(yunet, det_size=16)
    with pytest.raises(EdgeferError, match="at least 32 pixels, not 0"):
        FaceDetector(yunet)(np.zeros((64, 64, 3), np.uint8), 0)  # 0 is not "the default"
    with pytest.raises(EdgeferError, match="at least 32 pixels, not 0"):
        Recognizer(detector="none", det_size=0)


def test_pyramid_merges_a_face_found_at_two_levels(engines, photo):
    """The astronaut's face is in YuNet's band at two of the photo's levels: one face."""
    image = cv2.imread(str(photo))
    per_level = [engines["ort"](image, size) for size in pyramid(*image.shape[:2])]
    assert sum(len(f) for f in per_level) >= 2
    (face,) = engines["ort"](image)
    assert max(iou(face.box, f.box) for level in per_level for f in level) == 1.0
