"""The torch-free runtime and `edgefer detect` on real faces and a real photo."""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading

import cv2
import numpy as np
import pytest
from helpers import REPO, assert_one_line_error, count_frames, run_cli

from edgefer.bench.composite import FACE_SIDE, SLOTS, composite_frame
from edgefer.bench.suite import PIPELINE_FACES as FACES
from edgefer.bench.videos import composite_video
from edgefer.errors import EdgeferError
from edgefer.runtime import EmotionClassifier
from edgefer.runtime.assets import YUNET
from edgefer.runtime.classifier import CHUNK
from edgefer.runtime.face_detector import FaceDetector, resolve_detector
from edgefer.runtime.pipeline import EmotionPipeline
from edgefer.runtime.tracker import iou


def composite(fer, n):
    """A 640x480 frame with n real FER2013 test faces."""
    return composite_frame(fer.split("test").images[FACES[:n]])


def test_shipped_model_labels_the_astronaut_happy(photo, yunet):
    pipeline = EmotionPipeline(EmotionClassifier(), FaceDetector(yunet))
    result = pipeline(cv2.imread(str(photo)))
    assert len(result.faces) == 1
    assert result.faces[0].emotion == "happy"


@pytest.mark.parametrize("n", [1, 4])
def test_composite_frames_count_and_place_faces(fer, yunet, exported, n):
    pipeline = EmotionPipeline(EmotionClassifier(exported / "model.int8.onnx"),
                               FaceDetector(yunet))
    result = pipeline(composite(fer, n))
    assert len(result.faces) == n
    for x, y in SLOTS[:n]:
        assert max(iou(f.box, (x, y, FACE_SIDE, FACE_SIDE)) for f in result.faces) > 0.4


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
            assert set(face) == {"box", "score", "track_id", "emotion", "confidence", "probs",
                                 "landmarks"}
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
    expected = EmotionClassifier(exported / "model.onnx").predict(fer.split("val").images[0])
    assert line["faces"][0]["emotion"] == expected.emotion


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


def test_the_detector_ships_inside_the_package(monkeypatch, tmp_path, yunet):
    monkeypatch.delenv("EDGEFER_DETECTOR", raising=False)
    shipped = resolve_detector()
    assert shipped == YUNET and shipped.read_bytes() == yunet.read_bytes()
    assert "MIT License" in YUNET.with_suffix(".LICENSE").read_text()
    assert FaceDetector().path == YUNET
    monkeypatch.setenv("EDGEFER_DETECTOR", str(tmp_path / "missing.onnx"))
    with pytest.raises(FileNotFoundError, match="face detector model not found"):
        resolve_detector()
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"garbage")
    with pytest.raises(EdgeferError, match="not a YuNet face detector"):
        FaceDetector(bad)
    source = (REPO / "edgefer/runtime/face_detector.py").read_text()
    assert "urllib" not in source and "download" not in source


def test_video_tracks_faces_and_saves_playable_file(fer, yunet, exported, tmp_path):
    video = composite_video(fer.split("test").images[FACES], tmp_path / "in.avi", 30)
    out = tmp_path / "out.mp4"
    proc = run_cli("detect", "--source", str(video), "--model", str(exported / "model.int8.onnx"),
                   "--detector", str(yunet), "--json", "--save", str(out))
    lines = [json.loads(x) for x in proc.stdout.splitlines()]
    assert len(lines) == 30
    assert all(sorted(f["track_id"] for f in x["faces"]) == [0, 1, 2, 3] for x in lines)
    assert count_frames(out) == 30
    assert not list(tmp_path.glob(".*tmp*"))


def test_video_errors(tmp_path, exported, yunet, photo):
    (tmp_path / "empty.mp4").write_bytes(b"")
    common = ["detect", "--model", str(exported / "model.onnx"), "--detector", str(yunet)]
    cases = [
        (["--source", str(tmp_path / "empty.mp4")], "video"),
        (["--camera", "99"], "cannot open camera 99"),
        (["--camera", "0", "--source", "x.mp4"], "exactly one of a source or a camera"),
        (["--source", str(photo), "--show"], "show needs a display"),
    ]
    for args, message in cases:
        assert_one_line_error(run_cli(*common, *args, check=False), message)


@pytest.fixture
def dropping_stream(tmp_path):
    """An HTTP video stream on 127.0.0.1 that breaks off halfway on every connection."""
    path = tmp_path / "stream.avi"
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30, (320, 240))
    for i in range(60):
        out.write(np.full((240, 320, 3), 2 * i, np.uint8))
    out.release()
    data = path.read_bytes()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/stream.avi"
    server.shutdown()
    server.server_close()


def test_stream_that_stops(dropping_stream, exported):
    common = ["detect", "--source", dropping_stream, "--model", str(exported / "model.onnx"),
              "--detector", "none", "--json"]
    proc = run_cli(*common, check=False)
    assert_one_line_error(proc, "stopped sending frames after")
    frames = len(proc.stdout.splitlines())
    assert 5 < frames < 60
    proc = run_cli(*common, "--reconnect", "1", "--max-frames", str(frames + 10))
    assert len(proc.stdout.splitlines()) == frames + 10


def test_flip_tta_averages_the_face_and_its_mirror(exported, fer):
    faces = fer.split("val").images[:16]
    plain = EmotionClassifier(exported / "model.onnx")
    tta = EmotionClassifier(exported / "model.onnx", flip_tta=True)
    expected = (plain.predict_probs(faces) + plain.predict_probs(faces[:, :, ::-1].copy())) / 2
    np.testing.assert_allclose(tta.predict_probs(faces), expected, atol=1e-6)
    assert tta.predict_probs(faces[:0]).shape == (0, 7)


def test_large_batches_run_in_chunks_with_the_same_probabilities(exported, fer, monkeypatch):
    faces = fer.split("val").images[:CHUNK + 40]
    clf = EmotionClassifier(exported / "model.onnx", flip_tta=True)
    expected = np.concatenate([clf.predict_probs(faces[:CHUNK]), clf.predict_probs(faces[CHUNK:])])
    sizes = []
    run = clf.run_tensor
    monkeypatch.setattr(clf, "run_tensor", lambda x: sizes.append(len(x)) or run(x))
    np.testing.assert_allclose(clf.predict_probs(faces), expected, atol=1e-6)
    assert sizes == [2 * CHUNK, 2 * 40]  # each chunk with its mirror images
