"""Frames to process: one image file or a directory of images, decoded with OpenCV."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from edgefer.errors import EdgeferError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm"}


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


def iter_images(source: Path) -> Iterator[tuple[Path, np.ndarray, float]]:
    """(path, BGR frame, decode milliseconds) for each image of the source."""
    for path in image_files(source):
        start = time.perf_counter()
        img = read_image(path)
        yield path, img, (time.perf_counter() - start) * 1000
