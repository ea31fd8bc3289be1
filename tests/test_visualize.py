"""`edgefer visualize` and `edgefer report` on a briefly trained model: files that decode, the
expected panels, not blank; the HTML report rendered in headless Chromium."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess

import cv2
import numpy as np
import pytest
from helpers import assert_one_line_error, chromium_path, run_cli

from edgefer.bench.composite import composite_frame
from edgefer.visualize.features import inspect_checkpoint, inspect_onnx

# edge-s: 7 Conv-BN-ReLU blocks and 3 max-pools
EDGE_S_LAYERS = ["conv1", "pool1", "conv2", "conv3", "pool2", "conv4", "conv5", "pool3",
                 "conv6", "conv7"]
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]


def assert_picture(img: np.ndarray | None, min_std: float = 10.0) -> np.ndarray:
    """Decoded, and not blank: its pixels vary."""
    assert img is not None
    assert img.std() > min_std, img.std()
    return img


def test_feature_maps_from_a_checkpoint(trained_run, fer_path, tmp_path):
    out = tmp_path / "maps"
    run_cli("visualize", "feature-maps", str(trained_run), "--sample", "surprise", "--out",
            str(out), "--data", str(fer_path))
    files = sorted(out.glob("*.png"))
    assert [f.stem.split("_", 1)[1] for f in files] == EDGE_S_LAYERS
    for f in files:
        assert_picture(cv2.imread(str(f)))


def test_onnx_feature_maps_equal_the_checkpoints(trained_run, exported, fer, tmp_path):
    face = fer.split("test").images[3]
    torch_maps = inspect_checkpoint(trained_run, face)
    onnx_maps = inspect_onnx(exported / "model.onnx", face)
    assert [f.name for f in onnx_maps.layers] == EDGE_S_LAYERS
    for a, b in zip(torch_maps.layers, onnx_maps.layers, strict=True):
        assert a.maps.shape == b.maps.shape
        assert np.abs(a.maps - b.maps).max() < 1e-3 * max(1.0, float(np.abs(a.maps).max()))
    np.testing.assert_allclose(torch_maps.probs, onnx_maps.probs, atol=1e-5)

    path = tmp_path / "face.png"
    cv2.imwrite(str(path), face)
    out = tmp_path / "onnx_maps"
    run_cli("visualize", "feature-maps", str(exported / "model.onnx"), "--image", str(path),
            "--detector", "none", "--layers", "conv1,pool2", "--out", str(out))
    assert sorted(p.name for p in out.glob("*.png")) == ["00_conv1.png", "01_pool2.png"]


def test_feature_map_errors(exported, tmp_path, fer_path):
    face = tmp_path / "face.png"
    cv2.imwrite(str(face), np.full((48, 48), 128, np.uint8))
    common = ["--image", str(face), "--detector", "none", "--out", str(tmp_path / "x")]
    cases = [
        ([str(exported / "model.int8.onnx"), *common], "feature maps need the fp32 model"),
        ([str(exported / "model.onnx"), *common, "--layers", "conv99"], "unknown layer(s) conv99"),
        ([str(exported / "model.onnx"), "--sample", "joy", "--data", str(fer_path), "--out",
          str(tmp_path / "x")], "unknown emotion 'joy'"),
        ([str(exported / "model.onnx"), "--out", str(tmp_path / "x")], "exactly one of"),
    ]
    for args, message in cases:
        assert_one_line_error(run_cli("visualize", "feature-maps", *args, check=False), message)


def test_gradcam_one_row_per_face(trained_run, exported, fer, yunet, tmp_path):
    frame = tmp_path / "two.png"
    cv2.imwrite(str(frame), composite_frame(fer.split("test").images[[0, 5]]))
    out = tmp_path / "cam.png"
    proc = run_cli("visualize", "gradcam", str(trained_run), "--image", str(frame), "--target",
                   "sad", "--detector", str(yunet), "--out", str(out))
    assert "Grad-CAM for 2 face(s)" in proc.stderr
    img = assert_picture(cv2.imread(str(out)))
    assert img.shape[:2] == (2 * 280, 3 * 260)  # 2 faces x (crop, predicted, target) panels
    bad = run_cli("visualize", "gradcam", str(exported / "model.onnx"), "--image", str(frame),
                  "--out", str(out), check=False)
    assert_one_line_error(bad, "Grad-CAM needs gradients")


@pytest.fixture(scope="module")
def chromium() -> str:
    return chromium_path()


def test_html_report_is_self_contained_and_renders(trained_run, exported, fer_path, tmp_path,
                                                   chromium):
    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    shutil.copytree(exported, run / "export")
    out = tmp_path / "report.html"
    run_cli("report", str(run), "--out", str(out), "--data", str(fer_path))
    page = out.read_text()
    assert "src=\"http" not in page and "<link" not in page  # nothing fetched from elsewhere
    for title in ("Training curves", "Confusion matrix", "Per-class accuracy",
                  "Most confident mistakes", "Feature maps", "Export"):
        assert f"<h2>{title}" in page
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(images) == 5
    for data in images:
        assert_picture(cv2.imdecode(np.frombuffer(base64.b64decode(data), np.uint8),
                                    cv2.IMREAD_COLOR))

    # Rendered: every image decoded by the browser, and the page is not blank.
    probe = tmp_path / "probe.html"
    probe.write_text(page.replace("</body>", "<script>window.addEventListener('load', () => {"
                                  "const i = [...document.images]; document.body.dataset.images"
                                  " = i.length; document.body.dataset.broken = i.filter(x => "
                                  "!(x.complete && x.naturalWidth > 0)).length;});</script>"
                                  "</body>"))
    flags = [*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([chromium, *flags, "--virtual-time-budget=5000", "--dump-dom",
                          probe.as_uri()], capture_output=True, text=True, timeout=120).stdout
    assert re.search(r'data-images="5" data-broken="0"', dom), dom[:300]
    shot = tmp_path / "shot.png"
    subprocess.run([chromium, *flags, "--window-size=1200,2400", "--hide-scrollbars",
                    f"--screenshot={shot}", out.as_uri()], capture_output=True, timeout=120)
    assert_picture(cv2.imread(str(shot)), min_std=20)
