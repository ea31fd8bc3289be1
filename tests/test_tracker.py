"""The IoU tracker: stable ids under jitter, new ids for new faces, smoothed labels."""

import numpy as np
import pytest
from helpers import face_result

from edgefer.runtime.tracker import Tracker, iou

LABELS = ["a", "b"]


def face(x, y, p_a):
    return face_result((x, y, 100, 100), {"a": p_a, "b": 1 - p_a})


def test_iou():
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1
    assert iou((0, 0, 10, 10), (20, 20, 5, 5)) == 0
    assert abs(iou((0, 0, 10, 10), (5, 0, 10, 10)) - 1 / 3) < 1e-9


def test_ids_stable_under_jitter_and_new_faces_get_new_ids():
    rng = np.random.default_rng(0)
    tracker = Tracker(LABELS, smoothing=0.0)
    for _ in range(50):
        jx, jy = rng.integers(-8, 9, 2)
        faces = tracker.update([face(100 + jx, 100 + jy, 0.9), face(400 - jx, 120 + jy, 0.1)])
        assert [f.track_id for f in faces] == [0, 1]
    faces = tracker.update([face(100, 100, 0.9), face(400, 120, 0.1), face(250, 300, 0.9)])
    assert [f.track_id for f in faces] == [0, 1, 2]


def test_smoothing_stops_flicker():
    tracker = Tracker(LABELS, smoothing=0.8)
    tracker.update([face(0, 0, 0.9)])
    flicker = [tracker.update([face(0, 0, p)])[0].emotion for p in (0.4, 0.9, 0.4, 0.9)]
    assert flicker == ["a"] * 4
    raw = Tracker(LABELS, smoothing=0.0)
    raw.update([face(0, 0, 0.9)])
    assert raw.update([face(0, 0, 0.4)])[0].emotion == "b"


def test_lost_tracks_expire():
    tracker = Tracker(LABELS, max_missed=2)
    tracker.update([face(0, 0, 0.9)])
    for _ in range(3):
        tracker.update([])
    assert tracker.update([face(0, 0, 0.9)])[0].track_id == 1


def test_an_established_track_coasts_through_keep_missed_detections():
    tracker = Tracker(LABELS, keep=2)
    tracker.update([face(100, 100, 0.9)])
    assert tracker.coast(640, 480) == []  # nothing missed yet
    tracker.update([face(110, 100, 0.9)])  # found twice: established, moving 10 px a frame
    boxes = []
    for _ in range(3):
        tracker.update([])  # a detection round that misses it
        boxes += [(f.track_id, f.box, f.emotion) for f in tracker.coast(640, 480)]
    assert boxes == [(0, (120, 100, 100, 100), "a"), (0, (130, 100, 100, 100), "a")]
    once = Tracker(LABELS, keep=2)
    once.update([face(100, 100, 0.9)])
    once.update([])
    assert once.coast(640, 480) == []  # a face seen once may be a false detection


def test_coasting_is_off_with_keep_0():
    tracker = Tracker(LABELS)
    tracker.update([face(100, 100, 0.9)])
    tracker.update([face(100, 100, 0.9)])
    tracker.update([])
    assert tracker.coast(640, 480) == []


def test_step_moves_tracks_on_with_their_emotions_until_they_leave_the_frame():
    tracker = Tracker(LABELS, smoothing=0.5)
    tracker.update([face(100, 100, 0.9)])
    tracker.update([face(100, 100, 0.3)])  # smoothed: a 0.6
    tracker.update([face(400, 100, 0.9)])  # a second face; the first missed (not reported)
    assert [f.track_id for f in tracker.step(640, 480)] == [1]
    moving = Tracker(LABELS)
    moving.update([face(500, 10, 0.9)])
    moving.update([face(530, 10, 0.9)])  # 30 px a frame to the right
    stepped = moving.step(640, 480)
    assert [(f.track_id, f.box, f.emotion) for f in stepped] == [(0, (560, 10, 80, 100), "a")]
    assert stepped[0].probs == pytest.approx({"a": 0.9, "b": 0.1})  # not classified again
    assert [len(moving.step(640, 480)) for _ in range(4)] == [1, 1, 0, 0]  # out at 650 px


def test_expected_boxes_follow_tracks_until_keep_rounds_missed():
    tracker = Tracker(LABELS, keep=1)
    tracker.update([face(100, 100, 0.9)])
    assert tracker.expected(640, 480) == [((100, 100, 100, 100), False)]  # found once: new
    tracker.update([face(110, 100, 0.9)])
    assert tracker.expected(640, 480) == [((120, 100, 100, 100), True)]  # the next frame's box
    tracker.update([])
    assert tracker.expected(640, 480) == [((130, 100, 100, 100), True)]  # missed once: looked for
    tracker.update([])
    assert tracker.expected(640, 480) == []


def test_a_growing_box_does_not_move_the_face():
    tracker = Tracker(LABELS, keep=1)
    tracker.update([face_result((100, 100, 100, 100), {"a": 0.9, "b": 0.1})])
    tracker.update([face_result((90, 90, 120, 120), {"a": 0.9, "b": 0.1})])  # same centre
    assert tracker.expected(640, 480) == [((90, 90, 120, 120), True)]  # not drifting up and left
