"""Detection recall on real photos: the image default finds the faces 320 px misses."""

from __future__ import annotations

import pytest

from edgefer.bench.recall import measure_recall
from edgefer.runtime import EmotionClassifier
from edgefer.runtime.face_detector import FaceDetector
from edgefer.runtime.pipeline import EmotionPipeline
from edgefer.runtime.recognizer import IMAGE_DET_CAP, VIDEO_DET_SIZE

pytest.importorskip("skimage", reason="backgrounds come with scikit-image (the dev extra)")


def test_image_default_finds_the_faces_the_video_size_misses(fer, yunet):
    from edgefer.bench.recall import make_scenes

    scenes = make_scenes(fer.split("test"), sizes=(96, 192), seed=1)  # 48 faces on 6 photos
    pipeline = EmotionPipeline(EmotionClassifier(), FaceDetector(yunet))
    rows = measure_recall(pipeline, scenes, (VIDEO_DET_SIZE, IMAGE_DET_CAP))

    def recall(det: int) -> float:
        mine = [r for r in rows if r.det_size == det]
        return sum(r.found for r in mine) / sum(r.faces for r in mine)

    # the full benchmark (benchmarks/recall.md, seed 0): 0.875/0.958 at 1280, 0.000/0.583 at 320
    assert recall(IMAGE_DET_CAP) >= 0.85
    assert recall(VIDEO_DET_SIZE) <= 0.5
