"""Every default of `Recognizer` (and so of `edgefer detect`, which reads them here), defined
once, with the measurement that chose it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DetectDefaults:
    """The defaults of `Recognizer(...)` and `Recognizer.run(...)`."""

    backend: str = "auto"  # the model format's runtime
    threads: int | None = None  # all cores
    min_face: int = 24  # smallest face side kept, in frame pixels
    score: float = 0.6  # face detection score threshold
    det_size: int | None = None  # None: images on the pyramid, video at VIDEO_DET_SIZE
    margin: float = 0.0  # crop margin around the face box, a share of its side (chosen on val)
    align: bool = True  # rotate crops so the eyes are level
    smoothing: float = 0.6  # video: weight of a track's previous probabilities
    flip_tta: bool = False
    # Video and cameras run the detector on every `detect_every`-th frame, tracked boxes
    # carried forward in between: the largest N of 1, 2, 3, 5 keeping box IoU >= 0.8 and
    # label agreement >= 95% against detecting every frame on benchmarks/detect_every.py's
    # real-photo videos, for 1.8-2.1x the frames per second.
    detect_every: int = 5
    detector_engine: str = "ort"  # YuNet through onnxruntime; "opencv" gives the same faces
    reconnect: int = 0  # camera/stream: times to reopen a source that stops sending frames


DETECT = DetectDefaults()
# Video and cameras are detected in one pass at this longer side (still images on the
# detector's pyramid; see face_detector.pyramid), chosen with benchmarks/recall.py.
VIDEO_DET_SIZE = 320
