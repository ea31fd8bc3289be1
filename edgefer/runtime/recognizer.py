"""`Recognizer`: faces and their emotions in images, arrays, directories, videos or a camera."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import cv2
import numpy as np

from edgefer.errors import BadArgumentError
from edgefer.runtime.classifier import EmotionClassifier, is_one_image
from edgefer.runtime.defaults import DETECT, PYRAMID_EVERY, SEARCH_FACE_PX
from edgefer.runtime.face_detector import FaceDetector, check_det_size, pyramid, video_det_size
from edgefer.runtime.pipeline import EmotionPipeline
from edgefer.runtime.results import FrameResult
from edgefer.runtime.run import RunSummary, run_loop
from edgefer.runtime.sources import Frame, FrameSource, read_image, warn
from edgefer.runtime.tracker import Tracker, check_smoothing

if TYPE_CHECKING:
    from edgefer.runtime.serve import LiveServer

Source = str | Path | int | np.ndarray | Sequence[str | Path | np.ndarray] | Iterator[np.ndarray]
D = DETECT


class Recognizer:
    """Detect faces, then classify each one's emotion.

    Defaults work out of the box (every one is in `edgefer.runtime.defaults.DETECT`): the
    shipped int8 `edge` model (`model="edge-s"`: the faster shipped one; or a path to an
    exported model) and the YuNet detector shipped in the package (`detector=PATH` for
    another; "none" treats each image as one face). `det_size` is the longer side frames are
    scaled to for one detection pass (default: still images on a pyramid of sizes; video and
    cameras at the size that puts a face of `min_face` pixels in the detector's band, see
    `face_detector.video_det_size`); on video, `smoothing` weights a tracked face's
    previous probabilities against the new ones. Video is detected and classified on every
    `detect_every`-th frame, tracked faces moving on at their own velocity in between (still
    images are always detected): the first such frame on the pyramid from `min_face` up,
    then every `search_every`-th one on the whole frame for new faces, and each one in the
    regions where tracked faces are expected, upscaled (`runtime.regions`). Video looks for
    new faces at `regions.SEARCH` of `score` and keeps a new face only if the next detection
    finds it again at that score; a face tracked through two or more detections is refound
    at `regions.REFIND` of `score`, and still reported when up to `keep` detections in a row
    miss it. `detector_engine` runs YuNet through onnxruntime ("ort") or OpenCV ("opencv").

        r = Recognizer()
        for face in r("photo.jpg")[0].faces:
            print(face.emotion, face.confidence, face.box)
        r.run("clip.mp4", save="out.mp4", csv="out.csv")  # a RunSummary
        for result in r.stream(camera_frames()):  # a generator of BGR arrays: one video
            print(result.faces)
    """

    def __init__(self, model: str | Path | None = None,
                 detector: str | Path | FaceDetector | None = None, *,
                 backend: str = D.backend, threads: int | None = D.threads,
                 det_size: int | None = D.det_size, min_face: int = D.min_face,
                 score: float = D.score, margin: float = D.margin, align: bool = D.align,
                 smoothing: float = D.smoothing, flip_tta: bool = D.flip_tta,
                 detect_every: int = D.detect_every, keep: int = D.keep,
                 search_every: int = D.search_every,
                 detector_engine: str = D.detector_engine) -> None:
        check_smoothing(smoothing)  # before anything loads
        check_det_size(det_size)
        for name, value in (("detect_every", detect_every), ("search_every", search_every)):
            if value < 1:
                raise BadArgumentError(f"{name} must be at least 1, not {value}")
        if keep < 0:
            raise BadArgumentError(f"keep must be at least 0, not {keep}")
        self.smoothing, self.det_size, self.detect_every = smoothing, det_size, detect_every
        self.min_face, self.keep, self.search_every = min_face, keep, search_every
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

    def __call__(self, source: Source, *, stream: bool = False,
                 max_frames: int | None = None) -> list[FrameResult] | Iterator[FrameResult]:
        """Results for `source`: a list, or with `stream=True` a lazy iterator (one frame's
        image in memory at a time: the choice for video). A camera or stream URL never ends:
        as a list it needs `max_frames`."""
        frames = self.open(source)
        if not stream and frames.live and max_frames is None:
            frames.close()
            raise BadArgumentError("a camera, stream or frame iterator may never end: pass "
                                   "stream=True to iterate over its results, or max_frames to "
                                   "collect a list")
        results = self.stream(frames, max_frames)
        return results if stream else list(results)

    def open(self, source: Source | Frames, reconnect: int = D.reconnect,
             on_skip: Callable[[str], None] = warn, loop: bool = False) -> Frames:
        """The frames of `source`, opened now so that a missing file or camera fails here.

        An int is a camera index; a str or Path an image, directory, video or stream URL; a
        numpy array one BGR (or gray) image; a list or tuple several images; an iterator (a
        generator) of arrays the frames of one live video, captured by the caller (e.g.
        picamera2 on a Raspberry Pi). `loop` starts a video file or images again at their end.
        """
        if isinstance(source, (FrameSource, MemoryFrames, IteratorFrames)):
            if loop and not getattr(source, "loop", False):
                raise BadArgumentError("loop: open the FrameSource with loop=True")
            return source
        if isinstance(source, bool):
            raise BadArgumentError("a source must be a path, camera index, image array or list")
        if isinstance(source, int):
            return FrameSource(camera=source, reconnect=reconnect, on_skip=on_skip, loop=loop)
        if isinstance(source, (str, Path)):
            return FrameSource(str(source), reconnect=reconnect, on_skip=on_skip, loop=loop)
        if loop:
            raise BadArgumentError("loop repeats a video file or images on disk, not arrays")
        if isinstance(source, np.ndarray):
            return MemoryFrames([Frame(_as_image(source), "array", 0.0)])
        if isinstance(source, Iterator):
            return IteratorFrames(source)
        if isinstance(source, Sequence):
            if not source:
                raise BadArgumentError("an empty list of images")
            return MemoryFrames([Frame(_as_image(s), f"array#{i}", 0.0)
                                 if isinstance(s, np.ndarray)
                                 else Frame(read_image(Path(s)), str(s), 0.0)
                                 for i, s in enumerate(source)])
        raise BadArgumentError(f"cannot read frames from a {type(source).__name__}: give a "
                               "path, camera index, image array or list of them")

    def stream(self, source: Source | FrameSource, max_frames: int | None = None,
               reconnect: int = D.reconnect, on_skip: Callable[[str], None] = warn
               ) -> Iterator[FrameResult]:
        """Results one frame at a time (tracked across frames of a video, stream or camera);
        the source is opened before this returns."""
        _check_max_frames(max_frames)
        return self._results(self.open(source, reconnect, on_skip), max_frames)

    def run(self, source: Source | FrameSource, *, save: str | Path | None = None,
            csv: str | Path | None = None, json: str | Path | TextIO | None = None,
            show: bool = False, serve: LiveServer | None = None, loop: bool = False,
            max_frames: int | None = None, reconnect: int = D.reconnect,
            on_frame: Callable[[FrameResult, float | None], None] | None = None,
            on_skip: Callable[[str], None] = warn) -> RunSummary:
        """Run `source` to its outputs and return a RunSummary (frames, FPS, per-track
        emotion shares and dwell time, `plot_timeline`).

        `save`: the annotated image, a directory for several images, or a .mp4/.avi/.mkv
        video; `csv`: one row per face per frame (schema in `edgefer.runtime.records`);
        `json`: one JSON object per frame, to a file or an open text stream; `show`: a
        window (needs a display); `serve`: a `LiveServer` the annotated frames and results go
        to (a file then plays at its own speed; `loop` repeats it). `on_frame(result, fps)`
        is called after each frame.
        Ctrl-C or SIGTERM stops the run after the frame in hand, every file finished and
        holding the same frames (`interrupted` is then True); a second one stops it at once.
        A run that processed no frame leaves no file behind.
        """
        _check_max_frames(max_frames)
        frames = self.open(source, reconnect, on_skip, loop)
        return run_loop(self._results(frames, max_frames), frames, self.labels, save=save,
                        csv=csv, json=json, show=show, on_frame=on_frame, serve=serve)

    def _results(self, frames: Frames, max_frames: int | None) -> Iterator[FrameResult]:
        if not frames.is_video or self.detector is None:
            tracker = Tracker(self.labels, self.smoothing) if frames.is_video else None
            for i, frame in self._frames(frames, max_frames):
                result = self.pipeline(frame.image, frame.name, i, self.det_size)
                if tracker is not None:
                    tracker.update(result.faces)
                yield _timed(result, frame)
            return
        tracker = Tracker(self.labels, self.smoothing, keep=self.keep)
        for i, frame in self._frames(frames, max_frames):
            h, w = frame.image.shape[:2]
            if i % self.detect_every:  # tracked faces moved on, emotions as they are
                result = FrameResult(frame.image, tracker.step(w, h), self.labels, frame.name,
                                     i, {"detect": 0.0, "classify": 0.0})
            else:
                sizes = self._search(i // self.detect_every, w, h)
                result = self.pipeline.detect(frame.image, sizes, tracker.expected(w, h),
                                              frame.name, i)
                tracker.update(result.faces)
                result.faces += tracker.coast(w, h)
            yield _timed(result, frame)

    def _search(self, round_: int, width: int, height: int) -> tuple[int, ...]:
        """The whole-frame detection sizes of a video's detection round: the first round on
        a pyramid from `min_face` up (every face there is found at once), then every
        `search_every`-th round one pass at `det_size` (new faces; every PYRAMID_EVERY-th
        of those the pyramid again, where set), none in between."""
        if round_ % self.search_every:
            return ()
        if self.det_size:
            return (self.det_size,)
        if round_ == 0 or (PYRAMID_EVERY and round_ % (self.search_every * PYRAMID_EVERY) == 0):
            return pyramid(height, width, SEARCH_FACE_PX / self.min_face)
        return (video_det_size(width, height, self.min_face),)

    @staticmethod
    def _frames(frames: Frames, max_frames: int | None) -> Iterator[tuple[int, Frame]]:
        try:
            for i, frame in enumerate(frames):
                if max_frames is not None and i >= max_frames:
                    break
                yield i, frame
        finally:
            frames.close()


def _timed(result: FrameResult, frame: Frame) -> FrameResult:
    """`result` with the frame's decode time and timestamp."""
    result.time_ms = {"decode": frame.decode_ms, **result.time_ms}
    result.time_s = frame.time_s
    return result


def _check_max_frames(max_frames: int | None) -> None:
    if max_frames is not None and max_frames < 1:
        raise BadArgumentError(f"max_frames must be at least 1, not {max_frames}")


class MemoryFrames:
    """Frames already in memory (arrays, or images read from a list of paths)."""

    is_video, live, fps = False, False, 30.0

    def __init__(self, frames: Iterable[Frame]) -> None:
        self.frames = list(frames)
        self.many_images = len(self.frames) > 1

    def __iter__(self) -> Iterator[Frame]:
        return iter(self.frames)

    def close(self) -> None:
        """Nothing to release."""


class IteratorFrames:
    """The frames of one live video from an iterator of arrays the caller captures (tracked
    across frames); `time_s` is seconds since the first frame arrived."""

    is_video, live, many_images, fps = True, True, False, 30.0

    def __init__(self, frames: Iterator[np.ndarray]) -> None:
        self.frames = frames

    def __iter__(self) -> Iterator[Frame]:
        start = None
        for i, image in enumerate(self.frames):
            if not isinstance(image, np.ndarray):
                raise BadArgumentError(f"frame {i} of the iterator is a "
                                       f"{type(image).__name__}, not an image array")
            now = time.monotonic()
            start = now if start is None else start
            yield Frame(_as_image(image), f"frame#{i}", 0.0, now - start)

    def close(self) -> None:
        """Close a generator (its `finally` blocks run); other iterators are left as given."""
        close = getattr(self.frames, "close", None)
        if callable(close):
            close()


Frames = FrameSource | MemoryFrames | IteratorFrames  # what `Recognizer.open` returns


def _as_image(image: np.ndarray) -> np.ndarray:
    """One frame as given (HxW gray, HxWx3 BGR, HxWx4 BGRA), or EdgeferError for anything
    that could be several images."""
    if is_one_image(image):
        if image.dtype != np.uint8:
            raise BadArgumentError(f"an image array must be uint8, not {image.dtype}")
        if image.ndim == 2 or image.shape[2] == 1:
            return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
        return image if image.shape[2] == 3 else cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    raise BadArgumentError(f"an array of shape {image.shape} is not one HxW, HxWx3 or HxWx4 "
                           "image: pass a list for several")
