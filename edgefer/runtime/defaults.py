"""Every default of `Recognizer` (and so of `edgefer detect`, which reads them here), defined
once, with the measurement that chose it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DetectDefaults:
    """The defaults of `Recognizer(...)` and `Recognizer.run(...)`."""

    backend: str = "auto"  # the model format's runtime
    threads: int | None = None  # all cores
    # smallest face side to find and report, in frame pixels: video is detected at the size
    # that puts a face this small at VIDEO_FACE_PX in the detector's input
    min_face: int = 48
    score: float = 0.6  # face detection score threshold
    det_size: int | None = None  # None: images on the pyramid, video from min_face
    margin: float = 0.0  # crop margin around the face box, a share of its side (chosen on val)
    align: bool = True  # rotate crops so the eyes are level
    smoothing: float = 0.6  # video: weight of a track's previous probabilities
    flip_tta: bool = False
    # Video and cameras run the detector on every `detect_every`-th frame, tracked boxes
    # carried forward in between: the largest N of 1, 2, 3, 5 keeping box IoU >= 0.8 and
    # label agreement >= 95% against detecting every frame on benchmarks/detect_every.py's
    # real-photo videos, for 1.8-2.1x the frames per second.
    detect_every: int = 5
    # video: detection rounds a tracked face (found in two or more) may be missed in a row
    # and still be reported at its moved-on box
    keep: int = 2
    detector_engine: str = "ort"  # YuNet through onnxruntime; "opencv" gives the same faces
    reconnect: int = 0  # camera/stream: times to reopen a source that stops sending frames


DETECT = DetectDefaults()
# Video and cameras are detected in one pass per detection frame (still images on the
# detector's pyramid; see face_detector.pyramid), at the longer side that puts a face of
# `min_face` pixels at VIDEO_FACE_PX in YuNet's input, within [VIDEO_DET_MIN, VIDEO_DET_MAX]:
# 640 for a 640x480 camera at the default min_face. Chosen with benchmarks/video_recall.py
# from 640, 864 (VIDEO_FACE_PX 64) and 1280: 864 finds more 48-64 px faces at about 0.7x
# the frames per second (benchmarks/video_recall.md).
VIDEO_FACE_PX = 48
VIDEO_DET_MIN, VIDEO_DET_MAX = 320, 1280
# `--serve`'s address: the loopback, so nothing is reachable from elsewhere without a token
SERVE_ADDRESS = "127.0.0.1:8080"
