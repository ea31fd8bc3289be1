"""Detection recall on real photos: the image default (the pyramid) finds faces of every size
that one pass at the video size misses."""

from __future__ import annotations

import pytest

from edgefer.bench.recall import finds, make_scenes, measure_recall, pooled_recall
from edgefer.runtime import EmotionClassifier
from edgefer.runtime.face_detector import FaceDetector, pyramid
from edgefer.runtime.pipeline import EmotionPipeline

pytest.importorskip("skimage", reason="backgrounds come with scikit-image (the dev extra)")
ONE_PASS = 320  # the former video detection size


def test_image_default_finds_faces_of_64_px_and_larger(fer, yunet):
    scenes = make_scenes(fer.split("test"), sizes=(64, 96, 128, 192, 256, 384, 512, 768),
                         seed=1)  # 174 faces on 6 photos, seeds unlike the benchmark's
    pipeline = EmotionPipeline(EmotionClassifier(), FaceDetector(yunet))
    rows = measure_recall(pipeline, scenes, (ONE_PASS, None))

    # the target; benchmarks/recall.md has the figures by size
    assert pooled_recall(rows, None) >= 0.95
    assert pooled_recall(rows, None, (64, 96)) >= 0.9
    assert pooled_recall(rows, ONE_PASS, (64, 96)) <= 0.2  # one pass at 320 misses them
    assert sum(r.false for r in rows if r.det_size is None) <= 0.5 * len(scenes)


@pytest.mark.parametrize(("h", "w", "sizes"), [
    (900, 1600, (3200, 1067, 356)),   # each level a third of the one above
    (3024, 4032, (3200, 1067, 356)),  # the largest level capped
    (480, 640, (1280, 427)),
    (48, 48, (96,)),                  # a face crop: one level
])
def test_pyramid_levels(h, w, sizes):
    assert pyramid(h, w) == sizes


def test_finds_counts_a_detection_inside_the_face_and_big_enough():
    face = (100, 100, 200, 200)
    assert finds((120, 90, 170, 190), face)        # mostly inside, most of its size
    assert not finds((250, 250, 200, 200), face)   # mostly outside
    assert not finds((150, 150, 40, 40), face)     # inside but a fifth of the face
