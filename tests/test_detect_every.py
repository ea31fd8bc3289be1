"""Detecting on every Nth video frame: boxes carried at the tracks' velocity in between."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from helpers import face_result

from edgefer import EdgeferError, Recognizer
from edgefer.bench.videos import write_video
from edgefer.runtime import recognizer
from edgefer.runtime.defaults import DETECT, SEARCH_FACE_PX
from edgefer.runtime.face_detector import video_det_size
from edgefer.runtime.tracker import Tracker

FRAMES = 16
VELOCITY = (3, 1)  # px per frame of the first face; the second moves at (-2, 0)


@pytest.fixture(scope="module")
def clip(photo, tmp_path_factory):
    """Two copies of the astronaut's face moving at constant velocities over a gray wall."""
    face = cv2.imread(str(photo))[20:220, 130:320]
    frames = []
    for t in range(FRAMES):
        frame = np.full((480, 640, 3), 120, np.uint8)
        for x, y in ((40 + VELOCITY[0] * t, 60 + VELOCITY[1] * t), (420 - 2 * t, 240)):
            frame[y:y + face.shape[0], x:x + face.shape[1]] = face
        frames.append(frame)
    path = tmp_path_factory.mktemp("clip") / "clip.avi"
    write_video(path, frames)
    return path


@pytest.fixture(scope="module")
def every_frame(yunet):
    return Recognizer(detector=yunet, detect_every=1, keep=0)


def boxes(results) -> list[list[tuple[int, int, int, int]]]:
    """Each frame's boxes, left to right (the two faces never cross)."""
    return [sorted(f.box for f in r.faces) for r in results]


def test_tracker_carries_boxes_at_constant_velocity():
    tracker = Tracker(["a", "b"])
    for t in range(10):
        truth = (100 + 4 * t, 200 - 2 * t, 80, 90)
        if t % 3 == 0:
            tracker.update([face_result(truth, {"a": 0.9, "b": 0.1})])
        else:
            carried = tracker.step(640, 480)
            expected = truth if t > 3 else (100, 200, 80, 90)  # no velocity before 2 detections
            assert [f.box for f in carried] == [expected]


def test_carried_boxes_follow_moving_faces_with_stable_ids(yunet, clip, every_frame):
    detected = list(every_frame(clip))
    carried = list(Recognizer(detector=yunet, detect_every=4)(clip))
    assert [len(r.faces) for r in carried] == [2] * FRAMES
    assert {tuple(sorted(f.track_id for f in r.faces)) for r in carried} == {(0, 1)}
    left = [min(r.faces, key=lambda f: f.box[0]).track_id for r in carried]
    assert left == left[:1] * FRAMES  # ids hold across the frames in between detections
    # the true path: the known velocities through the per-frame detections' mean offset
    t = np.arange(FRAMES)[:, None, None]
    step = t * np.array([VELOCITY, (-2, 0)])
    centres = {n: np.array(boxes(r))[..., :2] + np.array(boxes(r))[..., 2:] / 2
               for n, r in ((1, detected), (4, carried))}
    path = (centres[1] - step).mean(axis=0) + step
    error = {n: np.abs(c - path)[4:].max() for n, c in centres.items()}  # velocity known
    assert error[4] <= 8, error  # under 5% of the 190 px face


def test_video_rounds_search_the_pyramid_then_every_search_every_th_round_and_repeat_it(
        yunet, clip, monkeypatch):
    from edgefer.runtime import regions
    from edgefer.runtime.face_detector import FaceDetector, pyramid

    calls = []
    detect = FaceDetector.detect

    def spy(self, frame, sizes, around=(), share=1.0):
        calls.append((tuple(sizes), len(around)))
        assert share == regions.SEARCH  # video looks for new faces at the search share
        return detect(self, frame, sizes, around, share)

    monkeypatch.setattr(FaceDetector, "detect", spy)
    monkeypatch.setattr(recognizer, "PYRAMID_EVERY", 2)
    results = list(Recognizer(detector=yunet, detect_every=2, search_every=3)(clip))
    assert len(calls) == FRAMES // 2  # one detection round every 2nd frame
    search = video_det_size(640, 480, DETECT.min_face)
    top = pyramid(480, 640, SEARCH_FACE_PX / DETECT.min_face)
    assert calls == [(top, 0), ((), 2), ((), 2), ((search,), 2),
                     ((), 2), ((), 2), (top, 2), ((), 2)]  # the 2 faces looked for
    assert all(len(r.faces) == 2 for r in results)
    assert all(r.time_ms["classify"] == 0 for r in results[1::2])  # emotions carried


def test_still_images_ignore_detect_every(yunet, photo, every_frame):
    images = [cv2.imread(str(photo))] * 3
    sparse = Recognizer(detector=yunet, detect_every=3)(images)
    assert [[f.to_json() for f in r.faces] for r in sparse] == \
        [[f.to_json() for f in r.faces] for r in every_frame(images)]
    with pytest.raises(EdgeferError, match="search_every must be at least 1"):
        Recognizer(search_every=0)
    assert all(len(r.faces) == 1 for r in sparse)


def test_back_and_forth_moves_faces_along_known_paths(fer, tmp_path):
    from helpers import count_frames

    from edgefer.bench.videos import back_and_forth

    test = fer.split("test")
    wall = np.full((480, 640, 3), 90, np.uint8)
    video = back_and_forth(test.images, test.labels, wall, 4, tmp_path / "v.avi", frames=30)
    assert count_frames(video.path) == 30 and video.labels == [int(v) for v in test.labels[:4]]
    boxes = np.array(video.boxes)  # frames x faces x (x, y, w, h)
    assert boxes.shape == (30, 4, 4) and (boxes[..., 2:] == 120).all()
    sideways = np.abs(np.diff(boxes[..., 0], axis=0))
    assert (sideways <= 3).all() and (sideways == 3).mean() > 0.9  # 3 px a frame, but turning
    assert (np.abs(np.diff(boxes[..., 1], axis=0)) <= 3).all()  # up to 2 px (rounded) up/down
    assert (boxes[..., :2] >= 0).all() and (boxes[..., 0] + 120 <= 640).all() \
        and (boxes[..., 1] + 120 <= 480).all()
    with pytest.raises(EdgeferError, match="1 or 4 faces, not 2"):
        back_and_forth(test.images, test.labels, wall, 2, tmp_path / "w.avi")


@pytest.mark.parametrize("value", [0, -2])
def test_bad_detect_every_is_one_line_error(value):
    with pytest.raises(EdgeferError, match="detect_every must be at least 1") as e:
        Recognizer(detect_every=value)
    assert "\n" not in str(e.value)
