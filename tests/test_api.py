"""The Python API: `from edgefer import ...`, every source kind, results. (The README's and
docs' Python snippets are executed by tests/test_docs.py.)"""

from __future__ import annotations

import json
from collections.abc import Iterator

import cv2
import numpy as np
import pytest

import edgefer
from edgefer import EdgeferError, EmotionClassifier, FrameResult, Recognizer
from edgefer.bench.videos import write_video


@pytest.fixture(scope="module")
def recognizer(yunet):
    return Recognizer(detector=yunet)


def test_public_names():
    assert set(edgefer.__all__) == {*edgefer._EXPORTS, "__version__"}
    for name in edgefer.__all__:
        assert getattr(edgefer, name) is not None


def test_every_image_source_kind_gives_a_list(recognizer, photo, tmp_path):
    img = cv2.imread(str(photo))
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("a.png", "b.jpg"):
        cv2.imwrite(str(folder / name), img)
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    for source, n in ((photo, 1), (str(photo), 1), (img, 1), (gray, 1), ([img, photo], 2),
                      (folder, 2)):
        results = recognizer(source)
        assert isinstance(results, list) and len(results) == n
        assert all(isinstance(r, FrameResult) and [f.emotion for f in r.faces] == ["happy"]
                   for r in results)


def test_video_streams_lazily_with_track_ids(recognizer, photo, tmp_path):
    clip = tmp_path / "clip.avi"
    write_clip(photo, clip, 5)
    results = recognizer(clip, stream=True)
    assert isinstance(results, Iterator)
    frames = list(results)
    assert [r.index for r in frames] == list(range(5))
    assert {f.track_id for r in frames for f in r.faces} == {0}
    assert len(list(recognizer.stream(clip, max_frames=2))) == 2


def test_results_plot_save_and_json(recognizer, photo, tmp_path):
    result = recognizer(photo)[0]
    shown = result.plot()
    assert shown.shape == result.image.shape and (shown != result.image).any()
    saved = cv2.imread(str(result.save(tmp_path / "out.png")))
    assert saved.shape == result.image.shape
    line = json.loads(json.dumps(result.to_json()))
    face = line["faces"][0]
    assert face["emotion"] == "happy" and len(face["landmarks"]) == 5
    assert face["probs"]["happy"] == round(result.faces[0].probs["happy"], 4)
    assert result.faces[0].probs["happy"] != face["probs"]["happy"]  # rounded only on output


@pytest.mark.parametrize("source, message", [
    (np.zeros((2, 64, 64, 3), np.uint8), "pass a list"),
    (np.zeros((64, 64, 3), np.float32), "must be uint8"),
    (True, "a source must be"),
    ([], "empty list"),
    (3.5, "cannot read frames from a float"),
    ("missing.png", "source not found"),
])
def test_bad_sources_raise_one_clear_error(recognizer, source, message):
    with pytest.raises(EdgeferError, match=message):
        recognizer(source)


def test_classifier_single_and_batch(photo):
    clf = EmotionClassifier()
    face = cv2.imread(str(photo))[63:175, 179:269]
    assert clf.predict(face).emotion == "happy"
    assert clf(face) == clf.predict(face)
    with pytest.raises(EdgeferError, match="ambiguous"):
        clf.predict_batch(face)  # the bug this API fixes: 112 predictions for one crop
    with pytest.raises(EdgeferError, match="use predict_batch"):
        clf.predict([face, face])


def test_shipped_models_by_name(tmp_path, monkeypatch):
    """'edge' (the default) and 'edge-s' name the shipped files each backend runs; a file that
    exists wins over a name; a bare unknown name says what is shipped."""
    from edgefer.runtime.assets import ASSETS, SHIPPED

    assert SHIPPED[0] == "edge" and EmotionClassifier().path == ASSETS / "edge.int8.onnx"
    fast = EmotionClassifier("edge-s")
    assert fast.path == ASSETS / "edge-s.int8.onnx" and fast.meta.arch == "edge-s"
    assert EmotionClassifier("edge").meta.arch == "edge"
    assert EmotionClassifier("edge-s", backend="ncnn").path == ASSETS / "edge-s.ncnn.param"
    assert EmotionClassifier("edge-s", backend="opencv").path == ASSETS / "edge-s.onnx"
    assert Recognizer("edge-s", detector="none").classifier.path == fast.path
    monkeypatch.chdir(tmp_path)
    (tmp_path / "edge-s").write_bytes(b"not a model")
    with pytest.raises(EdgeferError, match="not a model file edgefer runs"):
        EmotionClassifier("edge-s")
    with pytest.raises(EdgeferError, match=r"no shipped model of that name \(shipped: edge, "):
        EmotionClassifier("edge-m")


def write_clip(photo, path, frames: int) -> None:
    img = cv2.imread(str(photo))
    write_video(path, [np.roll(img, 2 * i, axis=1) for i in range(frames)], fps=10)

