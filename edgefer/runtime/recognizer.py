"""`Recognizer`: faces and their emotions in images, arrays, directories, videos or a camera."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

import cv2
import numpy as np

from edgefer.errors import EdgeferError
from edgefer.runtime.classifier import EmotionClassifier, is_one_image
from edgefer.runtime.face_detector import FaceDetector, check_det_size
from edgefer.runtime.pipeline import EmotionPipeline
from edgefer.runtime.results import FrameResult
from edgefer.runtime.sources import Frame, FrameSource, read_image, warn
from edgefer.runtime.tracker import Tracker, check_smoothing

Source = str | Path | int | np.ndarray | Sequence[str | Path | np.ndarray]
# Detection by source, chosen with benchmarks/recall.py: still images on the detector's
# pyramid (every face size; see face_detector.pyramid), video and cameras in one pass at
# VIDEO_DET_SIZE (longer side) for speed.
VIDEO_DET_SIZE = 320
# Video and cameras run the detector on every VIDEO_DETECT_EVERY-th frame, tracked boxes
# carried forward in between: the largest N of 1, 2, 3, 5 keeping box IoU >= 0.8 and label
# agreement >= 95% against detecting every frame on benchmarks/detect_every.py's real-photo
# videos (1 face: IoU 0.940, 100%; 4 faces: 0.851, 95.9%) for 1.8-2.1x the frames per
# second. On pasted FER2013 faces, whose labels flip under the detector's own few-pixel
# jitter, agreement is 93.3% and 87.6% (94.7% and 92.7% already at N=2).
VIDEO_DETECT_EVERY = 5


class Recognizer:
    """Detect faces, then classify each one's emotion.

    Defaults work out of the box: the shipped int8 `edge` model (`model="edge-s"`: the
    faster shipped one; or a path to an exported model) and the YuNet detector found at
    `$EDGEFER_DETECTOR` or in the cache. `detector="none"` treats each image as one face.
    `det_size` is the longer side frames are scaled to for one detection pass (default:
    still images on a pyramid of sizes, VIDEO_DET_SIZE for video and cameras); on video,
    `smoothing` weights a tracked face's previous probabilities against the new ones, and
    the detector runs on every `detect_every`-th frame (default VIDEO_DETECT_EVERY), tracked
    boxes moving on at their own velocity in between (still images are always detected).
    `detector_engine` runs YuNet through onnxruntime ("ort") or OpenCV ("opencv").

        r = Recognizer()
        for face in r("photo.jpg")[0].faces:
            print(face.emotion, face.confidence, face.box)
    """

    def __init__(self, model: str | Path | None = None,
                 detector: str | Path | FaceDetector | None = None, *, backend: str = "auto",
                 threads: int | None = None, det_size: int | None = None, min_face: int = 24,
                 score: float = 0.6, margin: float = 0.0, align: bool = True,
                 smoothing: float = 0.6, flip_tta: bool = False,
                 detect_every: int | None = None, detector_engine: str = "ort") -> None:
        check_smoothing(smoothing)  # before anything loads
        check_det_size(det_size)
        if detect_every is not None and detect_every < 1:
            raise EdgeferError(f"detect_every must be at least 1, not {detect_every}")
        self.smoothing, self.det_size, self.detect_every = smoothing, det_size, detect_every
        self.classifier = EmotionClassifier(model, backend=backend, threads=threads,
                                            flip_tta=flip_tta)
        if threads:
            cv2.setNumThreads(threads)  # the face detector runs on OpenCV's thread pool
        if isinstance(detector, FaceDetector) or detector == "none":
            self.detector = None if detector == "none" else detector
        else:
            self.detector = FaceDetector(detector, score, min_face=min_face,
                                         det_size=det_size,
                                         engine=detector_engine, threads=threads)
        self.pipeline = EmotionPipeline(self.classifier, self.detector, margin, align)

    @property
    def labels(self) -> list[str]:
        """The model's emotion names, in output order."""
        return self.classifier.labels

    def __call__(self, source: Source) -> list[FrameResult] | Iterator[FrameResult]:
        """Results for `source`: a list for an image path, a BGR array, a list of them or a
        directory; a lazy iterator for a video file, stream URL or camera index."""
        frames = self.open(source)
        results = self.stream(frames)
        return results if frames.is_video else list(results)

    def open(self, source: Source | FrameSource | MemoryFrames, reconnect: int = 0,
             on_skip: Callable[[str], None] = warn) -> FrameSource | MemoryFrames:
        """The frames of `source`, opened now so that a missing file or camera fails here.

        An int is a camera index; a str or Path an image, directory, video or stream URL; a
        numpy array one BGR (or gray) image; a list or tuple several images.
        """
        if isinstance(source, (FrameSource, MemoryFrames)):
            return source
        if isinstance(source, bool):
            raise EdgeferError("a source must be a path, camera index, image array or list")
        if isinstance(source, int):
            return FrameSource(camera=source, reconnect=reconnect, on_skip=on_skip)
        if isinstance(source, (str, Path)):
            return FrameSource(str(source), reconnect=reconnect, on_skip=on_skip)
        if isinstance(source, np.ndarray):
            return MemoryFrames([Frame(_as_image(source), "array", 0.0)])
        if isinstance(source, Sequence):
            if not source:
                raise EdgeferError("an empty list of images")
            return MemoryFrames([Frame(_as_image(s), f"array#{i}", 0.0) if isinstance(s, np.ndarray)
                            else Frame(read_image(Path(s)), str(s), 0.0)
                            for i, s in enumerate(source)])
        raise EdgeferError(f"cannot read frames from a {type(source).__name__}: give a path, "
                           "camera index, image array or list of them")

    def stream(self, source: Source | FrameSource, max_frames: int | None = None,
               reconnect: int = 0, on_skip: Callable[[str], None] = warn
               ) -> Iterator[FrameResult]:
        """Results one frame at a time (tracked across frames of a video, stream or camera);
        the source is opened before this returns."""
        if max_frames is not None and max_frames < 1:
            raise EdgeferError("max_frames must be at least 1")
        return self._results(self.open(source, reconnect, on_skip), max_frames)

    def _results(self, frames: FrameSource | MemoryFrames,
                 max_frames: int | None) -> Iterator[FrameResult]:
        tracker = Tracker(self.labels, self.smoothing) if frames.is_video else None
        det_size = (self.det_size or VIDEO_DET_SIZE) if frames.is_video else None
        every = self._detect_every(frames.is_video)
        try:
            for i, frame in enumerate(frames):
                if max_frames is not None and i >= max_frames:
                    break
                if tracker is not None and i % every:  # classify at carried boxes
                    h, w = frame.image.shape[:2]
                    carried = tracker.carry(w, h)
                    result = self.pipeline.classify(frame.image, list(carried.values()),
                                                    frame.name, i)
                    tracker.update(result.faces, list(carried))
                else:
                    result = self.pipeline(frame.image, frame.name, i, det_size)
                    if tracker is not None:
                        tracker.update(result.faces)
                result.time_ms = {"decode": frame.decode_ms, **result.time_ms}
                yield result
        finally:
            frames.close()

    def _detect_every(self, is_video: bool) -> int:
        """Detect on every how many frames: 1 for images or without a detector."""
        if not is_video or self.detector is None:
            return 1
        return self.detect_every or VIDEO_DETECT_EVERY


class MemoryFrames:
    """Frames already in memory (arrays, or images read from a list of paths)."""

    is_video, fps = False, 30.0

    def __init__(self, frames: Iterable[Frame]) -> None:
        self.frames = list(frames)
        self.many_images = len(self.frames) > 1

    def __iter__(self) -> Iterator[Frame]:
        return iter(self.frames)

    def close(self) -> None:
        """Nothing to release."""


def _as_image(image: np.ndarray) -> np.ndarray:
    """One frame as given (HxW gray, HxWx3 BGR, HxWx4 BGRA), or EdgeferError for anything
    that could be several images."""
    if is_one_image(image):
        if image.dtype != np.uint8:
            raise EdgeferError(f"an image array must be uint8, not {image.dtype}")
        if image.ndim == 2 or image.shape[2] == 1:
            return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
        return image if image.shape[2] == 3 else cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    raise EdgeferError(f"an array of shape {image.shape} is not one HxW, HxWx3 or HxWx4 image: "
                       "pass a list for several")
