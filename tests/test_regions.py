"""Tracked faces looked for again in one mosaic of upscaled regions: boxes map back to the
frame, faces cut by a cell's edge are dropped, and the regions' hysteresis threshold."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from edgefer.runtime import regions
from edgefer.runtime.face_detector import FaceDetector
from edgefer.runtime.regions import (
    CELL,
    COLUMNS,
    REFIND,
    SEARCH,
    SEARCHED_PX,
    Expected,
    detect_regions,
)
from edgefer.runtime.tracker import iou


@pytest.fixture(scope="module")
def small_faces(photo) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """A 640x480 gray frame holding the astronaut's face at 56 px twice, one at the edge."""
    face = cv2.resize(cv2.imread(str(photo))[20:220, 130:320], (53, 56),
                      interpolation=cv2.INTER_AREA)
    frame = np.full((480, 640, 3), 110, np.uint8)
    spots = [(200, 150), (640 - 53, 480 - 56)]  # the second touches the bottom-right corner
    for x, y in spots:
        frame[y:y + 56, x:x + 53] = face
    return frame, [(x, y, 53, 56) for x, y in spots]


def test_regions_find_small_faces_where_the_whole_frame_upscaled_does(yunet, small_faces):
    frame, spots = small_faces
    detector = FaceDetector(yunet, threads=1)
    upscaled = detector.detect(frame, (1280,))  # the reference: the whole frame at 2x
    assert len(upscaled) == 2
    rough = [(x - 6, y + 4, w, h) for x, y, w, h in spots]  # where a track expects them
    found = detect_regions(frame, rough, detector._detect)
    assert len(found) == 2
    for ref in upscaled:
        row = max(found, key=lambda r: iou(ref.box, tuple(int(v) for v in r[:4])))
        assert iou(ref.box, tuple(round(v) for v in row[:4])) > 0.8
        assert np.abs(row[4:14].reshape(5, 2) - ref.landmarks).max() < 3


def test_faces_cut_by_a_cell_edge_are_dropped_and_the_rest_map_back():
    frame = np.zeros((480, 640, 3), np.uint8)
    boxes = [(100, 100, 50, 50)] * (COLUMNS + 1)  # two rows of cells
    seen = []

    def detect(canvas: np.ndarray) -> np.ndarray:
        seen.append(canvas.shape)
        rows = []
        for x, y in ((10, 10), (CELL - 20, 10), (CELL + 10, CELL + 10)):
            rows.append([x, y, 60, 60, *([x + 30, y + 30] * 5), 0.9])
        return np.array(rows, np.float32)

    found = detect_regions(frame, boxes, detect)
    assert seen == [(2 * CELL, COLUMNS * CELL, 3)]
    # the face across the first two cells is dropped; the one in row 2, column 2 is beyond
    # the five regions placed (cell 6 of 5): only the first cell's face is left
    assert len(found) == 1
    x, y, w = found[0][:3]
    side = CELL * w / 60  # the region's side in frame pixels
    assert x < 125 < x + side and y < 125 < y + side  # inside the region around the box
    assert found[0][4] == pytest.approx(x + w / 2)  # landmarks moved with the box


def blind_detector() -> tuple[FaceDetector, list[tuple[tuple[int, int], float | None]]]:
    """A FaceDetector whose engine finds nothing and records each pass's input size and
    score threshold."""
    detector, calls = FaceDetector(threads=1), []

    def engine(image: np.ndarray, score_threshold: float | None = None) -> np.ndarray:
        calls.append((image.shape[:2], score_threshold))
        return np.zeros((0, 15), np.float32)

    detector._detect = engine
    return detector, calls


def test_regions_refind_tracked_faces_at_a_lower_score():
    detector, calls = blind_detector()
    frame = np.zeros((480, 640, 3), np.uint8)
    assert detector.detect(frame, (320,), [Expected((10, 10, 50, 50), True)], SEARCH) == []
    # the region of an established track, then the whole frame looking for new faces
    assert [t for _, t in calls] == pytest.approx([detector.score_threshold * REFIND,
                                                   detector.score_threshold * SEARCH])
    assert detect_regions(np.zeros((8, 8, 3), np.uint8), [], detector._detect).shape == (0, 15)


def test_a_track_found_once_must_score_its_region_at_the_search_share():
    """One mosaic at the lowest share; each cell keeps the faces scoring its own."""
    frame = np.zeros((480, 640, 3), np.uint8)
    boxes = [(100, 100, 50, 50), (300, 100, 50, 50)]
    found_at = 0.48  # between the shares of 0.6: established tracks keep it, new ones do not
    assert REFIND * 0.6 < found_at < SEARCH * 0.6

    def detect(canvas: np.ndarray) -> np.ndarray:
        return np.array([[x + 80, 80, 60, 60, *([x + 110, 110] * 5), found_at]
                         for x in (0, CELL)], np.float32)

    scores = regions.refind_scores([Expected(boxes[0], True), Expected(boxes[1], False)], 0.6)
    found = detect_regions(frame, boxes, detect, scores)
    assert len(found) == 1 and found[0][0] < 200  # the established track's face alone


def test_a_search_round_leaves_established_faces_it_finds_to_the_whole_frame_pass():
    """Only the established faces at least SEARCHED_PX in the pass's input leave the mosaic."""
    big, small = (0, 0, SEARCHED_PX, SEARCHED_PX), (0, 0, SEARCHED_PX - 1, SEARCHED_PX - 1)
    expected = [Expected(big, True), Expected(big, False), Expected(small, True)]
    assert regions.left_to_search(expected, 1.0) == expected[1:]
    assert regions.left_to_search(expected, 0.5) == expected  # all too small at half scale
    detector, calls = blind_detector()
    frame = np.zeros((480, 640, 3), np.uint8)
    detector.detect(frame, (640,), [Expected((10, 10, 100, 100), True)], SEARCH)
    assert [shape for shape, _ in calls] == [(480, 640)]  # no mosaic: the whole frame alone
    detector.detect(frame, (), [Expected((10, 10, 100, 100), True)], SEARCH)
    assert [shape for shape, _ in calls[1:]] == [(CELL, CELL)]  # a region round: its region
