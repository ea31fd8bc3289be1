"""The faces to look at: a photo's detected faces (aligned crops) or a FER2013 test face."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgefer.data import EMOTIONS, load_faces
from edgefer.errors import EdgeferError


def photo_faces(image: Path, detector: str | None) -> list[tuple[str, np.ndarray]]:
    """(name, crop) for each face YuNet finds in `image`, largest first; with detector
    'none', or when no face is found, the whole image is the face."""
    from edgefer.runtime.crop import face_crop
    from edgefer.runtime.face_detector import FaceDetector
    from edgefer.runtime.sources import read_image

    img = read_image(image)
    if detector != "none":
        found = sorted(FaceDetector(detector)(img), key=lambda f: -f.box[2] * f.box[3])
        if found:
            return [(f"face {i + 1} at {list(f.box)}", face_crop(img, f))
                    for i, f in enumerate(found)]
    return [(image.name, img)]


def sample_face(emotion: str, data: Path) -> tuple[str, np.ndarray]:
    """The first PrivateTest face labelled `emotion`."""
    if emotion not in EMOTIONS:
        raise EdgeferError(f"unknown emotion {emotion!r}: choose one of {', '.join(EMOTIONS)}")
    test = load_faces(data).split("test")
    k = int(np.flatnonzero(test.labels == EMOTIONS.index(emotion))[0])
    return f"test face {k} ({emotion}, row {test.rows[k]})", test.images[k]
