"""Annotated output: image files, or one video finalised even when the run is interrupted."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from edgefer.atomic import atomic_write
from edgefer.errors import BadArgumentError, EdgeferError

VIDEO_CODECS = {".mp4": "mp4v", ".avi": "MJPG", ".mkv": "mp4v"}


class FrameWriter:
    """Writes annotated frames to `path`: a video when the source is one, else images
    (`path` is a file for one image, a directory for several)."""

    def __init__(self, path: Path, video: bool, fps: float, many: bool) -> None:
        self.path, self.video, self.fps, self.many = path, video, fps, many
        if video and path.suffix.lower() not in VIDEO_CODECS:
            raise BadArgumentError(f"{path}: a video output needs one of "
                                   f"{', '.join(VIDEO_CODECS)}")
        self._tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
        self._out: cv2.VideoWriter | None = None
        self.frames = 0

    def write(self, image: np.ndarray, name: str) -> None:
        if not self.video:
            target = self.path / f"{Path(name).stem}.jpg" if self.many else self.path
            ext = target.suffix or ".jpg"
            ok, buf = cv2.imencode(ext, image)
            if not ok:
                raise EdgeferError(f"cannot encode {target} as {ext}")
            atomic_write(target, lambda tmp: tmp.write_bytes(buf.tobytes()))
            self.frames += 1
            return
        if self._out is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fourcc = cv2.VideoWriter_fourcc(*VIDEO_CODECS[self.path.suffix.lower()])
            self._out = cv2.VideoWriter(str(self._tmp), fourcc, self.fps,
                                        (image.shape[1], image.shape[0]))
            if not self._out.isOpened():
                raise EdgeferError(f"cannot write video {self.path}")
        self._out.write(image)
        self.frames += 1

    def close(self, keep: bool = True) -> None:
        """Finish the video container and move it into place (or drop it: `keep=False`)."""
        if self._out is not None:
            self._out.release()
            self._out = None
            if keep:
                os.replace(self._tmp, self.path)
            else:
                self._tmp.unlink(missing_ok=True)
