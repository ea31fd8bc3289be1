"""Write faces in the Kaggle image-folder layout, losslessly: a compact copy of chosen splits
(lossless WebP is ~1.6 kB a face, 53 MB for Training + PublicTest) to carry where the 78 MB
npz does not fit, e.g. to a lent GPU machine. `load_faces` reads the folder back unchanged."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2

from edgefer.data.faceset import EMOTIONS, SPLITS, FaceSet
from edgefer.errors import EdgeferError

# split -> (folder, file-name prefix) as in Kaggle's layout; the reader tells val from test by
# the prefix
LAYOUT = {"train": ("train", "Training"), "val": ("test", "PublicTest"),
          "test": ("test", "PrivateTest")}
LOSSLESS = {"webp": [cv2.IMWRITE_WEBP_QUALITY, 101], "png": [cv2.IMWRITE_PNG_COMPRESSION, 9]}


def write_folder(faces: FaceSet, root: Path, fmt: str = "webp",
                 advance: Callable[[], None] | None = None) -> int:
    """Write every face to root/<train|test>/<emotion>/<Prefix>_<n>.<fmt>; returns the bytes
    written. `root` must not exist yet or be empty; `advance` is called once per face."""
    if fmt not in LOSSLESS:
        raise EdgeferError(f"--format {fmt}: choose one of {', '.join(LOSSLESS)}")
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise EdgeferError(f"{root} already exists and is not empty: choose a new folder")
    total = 0
    for i, (image, label, split) in enumerate(zip(faces.images, faces.labels, faces.splits,
                                                      strict=True)):
        folder, prefix = LAYOUT[SPLITS[split]]
        path = root / folder / EMOTIONS[label] / f"{prefix}_{i:05d}.{fmt}"
        ok, data = cv2.imencode(f".{fmt}", image, LOSSLESS[fmt])
        if not ok:
            raise EdgeferError(f"could not encode {path.name} as {fmt}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.tobytes())
        total += len(data)
        if advance is not None:
            advance()
    return total
