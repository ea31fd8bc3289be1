"""Frames to process: an image, a directory of images, a video file, a stream URL or a camera."""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edgefer.errors import BadArgumentError, EdgeferError, MissingFileError
from edgefer.images import IMAGE_SUFFIXES
from edgefer.runtime.image_header import image_size
from edgefer.runtime.read_ahead import ReadAhead

MAX_PIXELS = 64_000_000  # a 64-megapixel image decodes to ~190 MB of BGR
MAX_FILE_BYTES = 256 * 2**20
MIN_SIDE = 16  # smaller images cannot hold a face worth classifying
MAX_BAD_FRAMES = 30  # consecutive undecodable frames that end a video file
# Video frames decoded ahead of the one in hand, on a thread of their own
# (`runtime.read_ahead`; 0: none, decoding takes turns with the rest): a file keeps 8, enough
# for its decoding to run on through a detection round, a live source 2, so a result is never
# more than two frames behind the camera. What it gives: benchmarks/video_recall.md
# ("default" against "default, no read-ahead").
READ_AHEAD, READ_AHEAD_LIVE = 8, 2
STREAM_PREFIXES = ("rtsp://", "rtmp://", "http://", "https://", "udp://", "tcp://")


def image_files(source: Path) -> list[Path]:
    """The image files a source names: itself, or a directory's images in name order."""
    if source.is_dir():
        files = sorted(p for p in source.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise EdgeferError(f"{source}: no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
        return files
    if not source.is_file():
        raise MissingFileError(f"source not found: {source}")
    return [source]


def read_image(path: Path) -> np.ndarray:
    """A BGR uint8 image from any depth, alpha, palette or CMYK file OpenCV reads.

    EdgeferError when the file is empty, too large, truncated, too small to hold a face or
    not an image. The size is checked from the header first, so a decompression bomb is
    refused without being decoded.
    """
    size = path.stat().st_size
    if size == 0:
        raise EdgeferError(f"{path}: empty file")
    if size > MAX_FILE_BYTES:
        raise EdgeferError(f"{path}: {size / 2**20:.0f} MB file, above the "
                           f"{MAX_FILE_BYTES // 2**20} MB limit for one image")
    data = np.fromfile(path, np.uint8)
    raw = data.tobytes()
    dims = image_size(raw)
    if dims is not None and dims[0] * dims[1] > MAX_PIXELS:
        raise EdgeferError(f"{path}: image is {dims[0]}x{dims[1]}, above the "
                           f"{MAX_PIXELS // 10**6} megapixel limit: downscale it first")
    if raw[:2] == b"\xff\xd8" and b"\xff\xd9" not in raw[-1024:]:
        raise EdgeferError(f"{path}: truncated JPEG (no end-of-image marker)")
    try:
        img = cv2.imdecode(data, cv2.IMREAD_COLOR)
    except cv2.error:
        img = None
    if img is None:
        raise EdgeferError(f"{path}: unreadable image")
    if min(img.shape[:2]) < MIN_SIDE:
        raise EdgeferError(f"{path}: image is {img.shape[1]}x{img.shape[0]}, too small to hold "
                           f"a face (at least {MIN_SIDE}x{MIN_SIDE})")
    return img


def warn(message: str) -> None:
    """A problem the source skips and carries on from, as a Python warning (the CLI prints
    these as one line each)."""
    warnings.warn(message, RuntimeWarning, stacklevel=3)


@dataclass
class Frame:
    """One decoded frame, where it came from, how long decoding took and when it was seen:
    `time_s` is the container's timestamp in a video file, seconds since the source opened
    for a camera or stream, None for still images."""

    image: np.ndarray
    name: str
    decode_ms: float
    time_s: float | None = None


class FrameSource:
    """Iterates frames of images, a video, a stream or a camera.

    With `loop`, a video file or images start again at their end (demos, tests). A live
    source (camera, stream) that stops delivering frames is reopened up to
    `reconnect` times; otherwise it ends with an EdgeferError saying how many frames came.
    Among several images, an unreadable one is reported through `on_skip` and skipped;
    so are undecodable frames inside a video file.
    """

    def __init__(self, source: str | None = None, camera: int | None = None,
                 reconnect: int = 0, on_skip: Callable[[str], None] = warn,
                 loop: bool = False) -> None:
        self.on_skip = on_skip
        if (source is None) == (camera is None):
            raise BadArgumentError("give exactly one of a source or a camera index")
        self.camera, self.reconnect, self.loop = camera, reconnect, loop
        self.target: str | int = camera if camera is not None else str(source)
        self.live = camera is not None or str(source).startswith(STREAM_PREFIXES)
        if loop and self.live:
            raise BadArgumentError("loop repeats a video file or images; a camera or stream "
                                   "never ends")
        self.images: list[Path] | None = None
        if not self.live:
            path = Path(str(source))
            if path.is_dir() or path.suffix.lower() in IMAGE_SUFFIXES:
                self.images = image_files(path)
            elif not path.is_file():
                raise MissingFileError(f"source not found: {path}")
        self.fps = 30.0
        self._opened = time.monotonic()
        self._cap: cv2.VideoCapture | None = None if self.images is not None else self._open()
        self._reader: ReadAhead[Frame] | None = None
        total = 0 if self._cap is None or self.live \
            else int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT))
        self._total = total if total > 0 else None  # read once: the capture is the reader's

    @property
    def is_video(self) -> bool:
        return self.images is None

    @property
    def many_images(self) -> bool:
        """Several images (or a directory): output goes to a directory, one file each."""
        return self.images is not None and (len(self.images) > 1
                                            or Path(str(self.target)).is_dir())

    @property
    def frames_total(self) -> int | None:
        """How many frames the source holds, where known (images, most video files)."""
        if self.images is not None:
            return len(self.images)
        return self._total

    def _open(self) -> cv2.VideoCapture:
        # OpenCV's and FFmpeg's own log lines ("can't open camera by index", "moov atom not
        # found") would break one-line errors: we report failures ourselves.
        os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
        cap = cv2.VideoCapture(self.target)
        if not cap.isOpened():
            what = f"camera {self.camera}" if self.camera is not None else f"video {self.target}"
            raise EdgeferError(f"cannot open {what}")
        fps = cap.get(cv2.CAP_PROP_FPS)
        self.fps = fps if 1 <= fps <= 240 else 30.0
        return cap

    def __iter__(self) -> Iterator[Frame]:
        depth = READ_AHEAD_LIVE if self.live else READ_AHEAD
        if self.images is not None or depth == 0:
            yield from self._passes(self.on_skip)
            return
        self._reader = ReadAhead(self._passes, depth, self.on_skip)
        yield from self._reader

    def _passes(self, on_skip: Callable[[str], None]) -> Iterator[Frame]:
        offset = 0.0  # with `loop`, each pass's timestamps continue the last one's
        while True:
            end = offset
            for frame in (self._images(on_skip) if self.images is not None
                          else self._video(on_skip)):
                if frame.time_s is not None:
                    frame.time_s += offset
                    end = frame.time_s + 1 / self.fps
                yield frame
            if not self.loop:
                return
            offset = end

    def _images(self, on_skip: Callable[[str], None]) -> Iterator[Frame]:
        read = 0
        for path in self.images:
            start = time.perf_counter()
            try:
                img = read_image(path)
            except EdgeferError as e:
                if not self.many_images:
                    raise
                on_skip(f"skipped {e}")
                continue
            read += 1
            yield Frame(img, str(path), (time.perf_counter() - start) * 1000)
        if read == 0:
            raise EdgeferError(f"{self.target}: none of its {len(self.images)} images could "
                               "be read")

    def _video(self, on_skip: Callable[[str], None]) -> Iterator[Frame]:
        if self._cap is None:  # iterated again after a previous pass closed it
            self._cap = self._open()
        count, retries, bad, bad_run = 0, 0, 0, 0
        try:
            while True:
                start = time.perf_counter()
                ok, img = self._cap.read()
                if ok and img is not None and img.size:
                    decode_ms = (time.perf_counter() - start) * 1000
                    yield Frame(img, f"{self.target}#{count}", decode_ms, self._time_s(count))
                    count, retries, bad_run = count + 1, 0, 0
                    continue
                if not self.live:
                    if self._frames_left(count + bad) and bad_run < MAX_BAD_FRAMES:
                        bad, bad_run = bad + 1, bad_run + 1  # a corrupt frame: skip it
                        continue
                    if bad:
                        on_skip(f"{self.target}: skipped {bad} undecodable frame(s)")
                    if count == 0:
                        raise EdgeferError(f"{self.target}: empty or unreadable video")
                    return
                if retries >= self.reconnect:
                    raise EdgeferError(f"{self._name()} stopped sending frames after {count}"
                                       + (f" ({retries} reconnects failed)" if retries else ""))
                retries += 1
                self._cap.release()
                time.sleep(min(2.0, 0.25 * 2 ** retries))
                try:
                    self._cap = self._open()
                except EdgeferError:
                    continue
        finally:
            self._release()

    def _time_s(self, index: int) -> float:
        """When frame `index` (just read) was seen: its container timestamp in a file (the
        frame rate's where the container has none), seconds since opening when live."""
        if self.live:
            return time.monotonic() - self._opened
        msec = self._cap.get(cv2.CAP_PROP_POS_MSEC)
        return msec / 1000 if msec > 0 or index == 0 else index / self.fps

    def _frames_left(self, seen: int) -> bool:
        """Whether the container says frames remain after `seen` of them."""
        total = self._cap.get(cv2.CAP_PROP_FRAME_COUNT)
        return total > 0 and seen < total

    def _name(self) -> str:
        return f"camera {self.camera}" if self.camera is not None else f"stream {self.target}"

    def close(self) -> None:
        """Stop reading and release the capture (a read-ahead thread blocked in a camera's
        read releases it when the read returns)."""
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.close()
            if reader.alive:
                return
        self._release()

    def _release(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None
