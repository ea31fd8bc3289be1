"""The torch-free runtime and `edgefer detect` on real faces and a real photo."""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading

import cv2
import numpy as np
import pytest
from conftest import assert_one_line_error, run_cli

from edgefer.errors import EdgeferError
from edgefer.runtime import EmotionClassifier
from edgefer.runtime.assets import default_model
from edgefer.runtime.face_detector import YUNET_SHA256, FaceDetector, resolve_detector
from edgefer.runtime.pipeline import EmotionPipeline

PASTE = [(40, 40), (360, 40), (40, 270), (360, 270)]  # top-left corners of 180 px faces


@pytest.fixture(scope="module")
def photo(yunet):
    path = yunet.parent / "testdata" / "astronaut.png"
    assert path.exists(), f"{path} missing"
    return path


def composite(fer, n):
    """A 640x480 frame with n real FER2013 test faces (upscaled to 180 px) on a grey wall."""
    frame = np.full((480, 640, 3), 90, np.uint8)
    test = fer.split("test")
    for (x, y), i in zip(PASTE[:n], (3, 10, 25, 40), strict=False):
        face = cv2.resize(test.images[i], (180, 180), interpolation=cv2.INTER_CUBIC)
        frame[y:y + 180, x:x + 180] = face[..., None]
    return frame


def iou(a, b):
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0, min(ay + ah, by + bh) - max(ay, by))
    return iw * ih / (aw * ah + bw * bh - iw * ih)


def test_shipped_model_labels_the_astronaut_happy(photo, yunet):
    pipeline = EmotionPipeline(EmotionClassifier(default_model()), FaceDetector(yunet))
    result = pipeline(cv2.imread(str(photo)))
    assert len(result.faces) == 1
    assert result.faces[0].emotion == "happy"


@pytest.mark.parametrize("n", [1, 4])
def test_composite_frames_count_and_place_faces(fer, yunet, exported, n):
    pipeline = EmotionPipeline(EmotionClassifier(exported / "model.int8.onnx"),
                               FaceDetector(yunet))
    result = pipeline(composite(fer, n))
    assert len(result.faces) == n
    for x, y in PASTE[:n]:
        assert max(iou(f.box, (x, y, 180, 180)) for f in result.faces) > 0.4


def test_detect_json_lines_and_saved_images(fer, yunet, exported, tmp_path):
    src = tmp_path / "frames"
    src.mkdir()
    for n in (1, 4):
        cv2.imwrite(str(src / f"faces{n}.png"), composite(fer, n))
    out = tmp_path / "annotated"
    proc = run_cli("detect", "--source", str(src), "--model", str(exported / "model.onnx"),
                   "--detector", str(yunet), "--json", "--save", str(out))
    lines = [json.loads(x) for x in proc.stdout.splitlines()]
    assert [len(x["faces"]) for x in lines] == [1, 4]
    for i, line in enumerate(lines):
        assert line["frame"] == i and set(line["time_ms"]) == {"decode", "detect", "classify"}
        for face in line["faces"]:
            assert set(face) == {"box", "score", "track_id", "emotion", "confidence", "probs"}
            assert len(face["box"]) == 4 and face["emotion"] in face["probs"]
            assert abs(sum(face["probs"].values()) - 1) < 1e-3
    for name in ("faces1.jpg", "faces4.jpg"):
        img = cv2.imread(str(out / name))
        assert img is not None and img.shape == (480, 640, 3)


def test_detector_none_classifies_whole_image(fer, exported, tmp_path):
    face = tmp_path / "face.png"
    cv2.imwrite(str(face), fer.split("val").images[0])
    line = json.loads(run_cli("detect", "--source", str(face), "--model",
                              str(exported / "model.onnx"), "--detector", "none",
                              "--json").stdout)
    assert line["faces"][0]["box"] == [0, 0, 48, 48]
    expected = EmotionClassifier(exported / "model.onnx")([fer.split("val").images[0]])[0]
    assert line["faces"][0]["emotion"] == expected.label


def test_runtime_and_detect_work_without_torch(exported, fer, tmp_path):
    face = tmp_path / "face.png"
    cv2.imwrite(str(face), fer.split("val").images[1])
    code = ("import sys; sys.modules['torch'] = None\n"
            "import edgefer.runtime\n"
            "from edgefer.cli import main\n"
            f"sys.argv = ['edgefer', 'detect', '--source', {str(face)!r}, '--model', "
            f"{str(exported / 'model.int8.onnx')!r}, '--detector', 'none', '--json']\n"
            "main()\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["faces"][0]["emotion"]


def test_detect_errors(tmp_path, exported, yunet):
    model = str(exported / "model.onnx")
    (tmp_path / "empty").mkdir()
    (tmp_path / "zero.png").write_bytes(b"")
    (tmp_path / "text.jpg").write_text("not an image")
    cases = [
        (["--source", str(tmp_path / "missing.png")], "source not found"),
        (["--source", str(tmp_path / "empty")], "no images"),
        (["--source", str(tmp_path / "zero.png")], "empty file"),
        (["--source", str(tmp_path / "text.jpg")], "unreadable image"),
        (["--source", str(tmp_path / "text.jpg"), "--threads", "0"], "threads must be"),
        (["--source", str(tmp_path / "text.jpg"), "--model", str(yunet)], "not an edgefer model"),
    ]
    for args, message in cases:
        full = ["detect", "--model", model, "--detector", str(yunet), *args]
        assert_one_line_error(run_cli(*full, check=False), message)


def test_detector_file_resolution_offline(monkeypatch, tmp_path):
    monkeypatch.delenv("EDGEFER_DETECTOR", raising=False)
    monkeypatch.setenv("EDGEFER_CACHE", str(tmp_path))
    monkeypatch.setenv("EDGEFER_OFFLINE", "1")
    with pytest.raises(EdgeferError, match="EDGEFER_OFFLINE=1: download it from https://"):
        resolve_detector()
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"garbage")
    with pytest.raises(EdgeferError, match="not a YuNet face detector"):
        FaceDetector(bad)


@pytest.fixture
def http_dir(tmp_path):
    """A local HTTP server on 127.0.0.1 serving tmp_path/www."""
    www = tmp_path / "www"
    www.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(www))
    http.server.SimpleHTTPRequestHandler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield www, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_detector_download(monkeypatch, tmp_path, http_dir, yunet):
    www, url = http_dir
    shutil.copy(yunet, www / "good.onnx")
    (www / "corrupt.onnx").write_bytes(yunet.read_bytes()[:-10] + b"0123456789")
    monkeypatch.delenv("EDGEFER_DETECTOR", raising=False)
    monkeypatch.delenv("EDGEFER_OFFLINE", raising=False)
    monkeypatch.setenv("EDGEFER_CACHE", str(tmp_path / "cache"))
    cached = tmp_path / "cache" / "models" / yunet.name

    monkeypatch.setenv("EDGEFER_DETECTOR_URL", f"{url}/corrupt.onnx")
    with pytest.raises(EdgeferError, match="sha256"):
        resolve_detector()
    assert not cached.exists() and not list(cached.parent.glob(".*tmp"))

    monkeypatch.setenv("EDGEFER_DETECTOR_URL", "http://127.0.0.1:9/down.onnx")
    with pytest.raises(EdgeferError, match="cannot download"):
        resolve_detector()

    monkeypatch.setenv("EDGEFER_DETECTOR_URL", f"{url}/good.onnx")
    assert resolve_detector() == cached
    import hashlib

    assert hashlib.sha256(cached.read_bytes()).hexdigest() == YUNET_SHA256
    os.remove(www / "good.onnx")
    assert resolve_detector() == cached  # served from the cache now
