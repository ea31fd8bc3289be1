"""Video detection sized from the smallest face to find: the detection size rule, and faces
of 64 px in a 640x480 video found where the former 320 px pass missed most of them."""

from __future__ import annotations

import numpy as np
import pytest

from edgefer import EdgeferError, Recognizer
from edgefer.bench.video_recall import VideoScore, every_frame, score_video
from edgefer.bench.videos import grid, moving_faces
from edgefer.runtime.defaults import DETECT, VIDEO_DET_MAX, VIDEO_DET_MIN
from edgefer.runtime.face_detector import video_det_size

pytest.importorskip("skimage", reason="backgrounds come with scikit-image (the dev extra)")


def test_video_det_size_puts_the_smallest_face_in_the_band():
    assert video_det_size(640, 480, DETECT.min_face) == 640
    assert video_det_size(480, 640, 96) == 320  # portrait, larger faces: smaller and faster
    assert video_det_size(640, 480, 32) == 960
    assert video_det_size(640, 480, 4) == VIDEO_DET_MAX
    assert video_det_size(160, 120, 200) == VIDEO_DET_MIN
    assert grid((640, 480), 8, 200) is None and grid((640, 480), 4, 64) == (1, 4)


def test_default_finds_64_px_faces_the_former_pass_missed(fer, tmp_path):
    from edgefer.bench.recall import background_photos

    test = fer.split("test")
    photo = background_photos(("rocket.jpg",))["rocket.jpg"]
    video = moving_faces(test.images, test.labels, photo, 4, 64, tmp_path / "v.avi",
                         frames=40, seed=5)
    assert len(video.boxes) == 40 and len(video.boxes[0]) == 4
    scores = {}
    recognizer = Recognizer(threads=2)
    for name, run in (("default", recognizer.stream), ("former", every_frame(recognizer))):
        scores[name] = VideoScore(name, "v", video.size, 4, 64)
        score_video(run, video, scores[name])
    assert scores["default"].recall >= 0.9, scores["default"]
    assert scores["default"].recall >= scores["former"].recall + 0.3, scores
    assert scores["default"].false <= 0.1 * scores["default"].frames
    # the steady rate leaves out the first frame's pyramid search
    assert len(scores["default"].steady_seconds) == 1
    assert scores["default"].steady_fps > scores["default"].fps


def test_one_writer_for_every_test_video(fer, tmp_path):
    from helpers import count_frames

    from edgefer.bench.videos import composite_video, write_video

    test = fer.split("test")
    video = composite_video(test.images[:4], tmp_path / "c.avi", 7)  # `edgefer bench`'s
    assert count_frames(video) == 7
    frames = (np.full((48, 64, 3), v, np.uint8) for v in range(5))  # a generator is streamed
    assert count_frames(write_video(tmp_path / "g.avi", frames)) == 5
    with pytest.raises(EdgeferError, match=r"MJPG in \.avi files"):
        write_video(tmp_path / "x.mp4", [np.zeros((8, 8, 3), np.uint8)])
    with pytest.raises(EdgeferError, match="at least one frame"):
        write_video(tmp_path / "empty.avi", [])
    assert not (tmp_path / "x.mp4").exists() and not (tmp_path / "empty.avi").exists()
