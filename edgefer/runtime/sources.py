"""Frames to process: an image, a directory of images, a video file, a stream URL or a camera."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edgefer.data.readers import IMAGE_SUFFIXES
from edgefer.errors import EdgeferError

STREAM_PREFIXES = ("rtsp://", "rtmp://", "http://", "https://", "udp://", "tcp://")


def image_files(source: Path) -> list[Path]:
    """The image files a source names: itself, or a directory's images in name order."""
    if source.is_dir():
        files = sorted(p for p in source.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise EdgeferError(f"{source}: no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
        return files
    if not source.is_file():
        raise EdgeferError(f"source not found: {source}")
    return [source]


def read_image(path: Path) -> np.ndarray:
    """A BGR uint8 image; EdgeferError when the file is not a decodable image."""
    data = np.fromfile(path, np.uint8)
    if data.size == 0:
        raise EdgeferError(f"{path}: empty file")
    try:
        img = cv2.imdecode(data, cv2.IMREAD_COLOR)
    except cv2.error:
        img = None
    if img is None:
        raise EdgeferError(f"{path}: unreadable image")
    return img


@dataclass
class Frame:
    """One decoded frame, where it came from and how long decoding took."""

    image: np.ndarray
    name: str
    decode_ms: float


class FrameSource:
    """Iterates frames of images, a video, a stream or a camera.

    A live source (camera, stream) that stops delivering frames is reopened up to
    `reconnect` times; otherwise it ends with an EdgeferError saying how many frames came.
    """

    def __init__(self, source: str | None = None, camera: int | None = None,
                 reconnect: int = 0) -> None:
        if (source is None) == (camera is None):
            raise EdgeferError("give exactly one of --source or --camera")
        self.camera, self.reconnect = camera, reconnect
        self.target: str | int = camera if camera is not None else str(source)
        self.live = camera is not None or str(source).startswith(STREAM_PREFIXES)
        self.images: list[Path] | None = None
        if not self.live:
            path = Path(str(source))
            if path.is_dir() or path.suffix.lower() in IMAGE_SUFFIXES:
                self.images = image_files(path)
            elif not path.is_file():
                raise EdgeferError(f"source not found: {path}")
        self.fps = 30.0
        self._cap: cv2.VideoCapture | None = None if self.images is not None else self._open()

    @property
    def is_video(self) -> bool:
        return self.images is None

    @property
    def many_images(self) -> bool:
        """Several images (or a directory): output goes to a directory, one file each."""
        return self.images is not None and (len(self.images) > 1
                                            or Path(str(self.target)).is_dir())

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
        if self.images is not None:
            for path in self.images:
                start = time.perf_counter()
                img = read_image(path)
                yield Frame(img, str(path), (time.perf_counter() - start) * 1000)
            return
        yield from self._video()

    def _video(self) -> Iterator[Frame]:
        if self._cap is None:  # iterated again after a previous pass closed it
            self._cap = self._open()
        count, retries = 0, 0
        try:
            while True:
                start = time.perf_counter()
                ok, img = self._cap.read()
                if ok and img is not None and img.size:
                    count, retries = count + 1, 0
                    yield Frame(img, f"{self.target}#{count - 1}",
                                (time.perf_counter() - start) * 1000)
                    continue
                if not self.live:
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
            self.close()

    def _name(self) -> str:
        return f"camera {self.camera}" if self.camera is not None else f"stream {self.target}"

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None
