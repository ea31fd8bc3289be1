"""Readers for the three forms FER2013 comes in: Kaggle csv, Kaggle image folders, npz."""

from __future__ import annotations

import csv
import zipfile
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from edgefer.data.faceset import EMOTIONS, IMAGE_SIZE, SPLITS, USAGE_TO_SPLIT, FaceSet
from edgefer.errors import EdgeferError
from edgefer.images import IMAGE_SUFFIXES

LABEL_SOURCES = ("fer2013", "ferplus", "ferplus-soft")
N_PIXELS = IMAGE_SIZE * IMAGE_SIZE


class BadRows:
    """Raises on the first malformed row, or counts them when skipping is allowed."""

    def __init__(self, skip: bool) -> None:
        self.skip = skip
        self.count = 0
        self.first = ""

    def __call__(self, where: str, reason: str) -> None:
        if not self.skip:
            raise EdgeferError(f"{where}: {reason} (use --skip-bad to drop malformed rows)")
        self.count += 1
        self.first = self.first or f"{where}: {reason}"


def load_faces(
    path: str | Path, skip_bad: bool = False, labels: str = "fer2013"
) -> FaceSet:
    """Read FER2013 from a csv file, an image-folder root or an npz file.

    `labels` picks the targets: the original FER2013 labels, or FER+ majority or soft
    labels read from `fer2013new.csv` beside the dataset (rows FER+ marks not-a-face or
    unknown are dropped).
    """
    path = Path(path)
    if labels not in LABEL_SOURCES:
        raise EdgeferError(f"unknown label source {labels!r}: choose one of {LABEL_SOURCES}")
    bad = BadRows(skip_bad)
    if path.is_dir():
        faces = _read_folder(path, bad)
    elif path.suffix.lower() == ".csv":
        faces = _read_csv(path, bad)
    elif path.suffix.lower() == ".npz":
        faces = _read_npz(path, bad)
    else:
        raise EdgeferError(f"{path}: not a FER2013 .csv, .npz or image-folder root")
    if len(faces) == 0:
        raise EdgeferError(f"{path}: no usable faces")
    if labels != "fer2013":
        from edgefer.data.ferplus import apply_ferplus

        faces = apply_ferplus(faces, path, soft=labels == "ferplus-soft")
    return replace(faces, skipped=bad.count)


def _read_csv(path: Path, bad: BadRows) -> FaceSet:
    """Kaggle `fer2013.csv`: columns emotion, pixels, Usage; 2304 space-separated pixels a row."""
    images, labels, splits, rows = [], [], [], []
    try:
        with path.open(newline="") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            need = ("emotion", "pixels", "Usage")
            if header is None or any(h not in header for h in need):
                raise EdgeferError(f"{path}: expected columns {', '.join(need)}, found {header}")
            ie, ip, iu = (header.index(h) for h in need)
            for i, rec in enumerate(reader):
                where = f"{path}:{i + 2} (row {i})"
                if len(rec) != len(header):
                    bad(where, f"{len(rec)} fields, expected {len(header)}")
                    continue
                emotion, usage = rec[ie].strip(), rec[iu].strip()
                if emotion not in {str(k) for k in range(len(EMOTIONS))}:
                    bad(where, f"unknown emotion label {emotion!r} (expected 0-6)")
                    continue
                if usage not in USAGE_TO_SPLIT:
                    bad(where, f"unknown Usage {usage!r} (expected {', '.join(USAGE_TO_SPLIT)})")
                    continue
                try:
                    pix = np.array(rec[ip].split(), dtype=np.int64)
                except ValueError:
                    bad(where, "pixels are not integers")
                    continue
                if pix.size != N_PIXELS:
                    bad(where, f"{pix.size} pixels, expected {N_PIXELS}")
                    continue
                if pix.min() < 0 or pix.max() > 255:
                    bad(where, "pixel values outside 0-255")
                    continue
                images.append(pix.astype(np.uint8).reshape(IMAGE_SIZE, IMAGE_SIZE))
                labels.append(int(emotion))
                splits.append(USAGE_TO_SPLIT[usage])
                rows.append(i)
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise EdgeferError(f"{path}: cannot read csv: {e}") from None
    return _faceset(images, labels, splits, rows, path)


def _read_npz(path: Path, bad: BadRows) -> FaceSet:
    """An .npz with `pixels` (N,48,48 or N,2304), `emotion` (0-6) and `usage` (0-2 or names)."""
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = [k for k in ("pixels", "emotion", "usage") if k not in z.files]
            if missing:
                raise EdgeferError(f"{path}: missing arrays {missing} (has {z.files})")
            pixels, emotion, usage = z["pixels"], z["emotion"], z["usage"]
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise EdgeferError(f"{path}: cannot read npz: {e}") from None
    n = len(pixels)
    if pixels.ndim not in (2, 3) or pixels[0].size != N_PIXELS:
        raise EdgeferError(f"{path}: pixels have shape {pixels.shape}, expected (N, 48, 48)")
    if len(emotion) != n or len(usage) != n:
        raise EdgeferError(f"{path}: {n} images but {len(emotion)} labels, {len(usage)} usages")
    if usage.dtype.kind in "USO":
        names = usage.astype(str)
        usage = np.array([USAGE_TO_SPLIT.get(u, -1) for u in names])
    if not np.issubdtype(emotion.dtype, np.integer) or not np.issubdtype(usage.dtype, np.integer):
        raise EdgeferError(f"{path}: emotion and usage must be integer arrays")
    pixels = pixels.reshape(n, IMAGE_SIZE, IMAGE_SIZE)
    ok = (emotion >= 0) & (emotion < len(EMOTIONS)) & (usage >= 0) & (usage < len(SPLITS))
    if pixels.dtype != np.uint8:
        ok &= (pixels.min(axis=(1, 2)) >= 0) & (pixels.max(axis=(1, 2)) <= 255)
    for i in np.flatnonzero(~ok):
        bad(f"{path}: row {i}", f"emotion {emotion[i]}, usage {usage[i]} or pixels out of range")
    keep = np.flatnonzero(ok)
    return FaceSet(
        images=pixels[keep].astype(np.uint8),
        labels=emotion[keep].astype(np.int64),
        splits=usage[keep].astype(np.uint8),
        rows=keep.astype(np.int64),
        source=str(path),
    )


def _read_folder(root: Path, bad: BadRows) -> FaceSet:
    """Kaggle layout: train/<class>/*.jpg and test/<class>/*.jpg (val/ optional).

    In test/, `PublicTest_*` files are the validation half and `PrivateTest_*` the test half.
    """
    parts = [d for d in ("train", "val", "test") if (root / d).is_dir()]
    if not parts:
        raise EdgeferError(f"{root}: expected train/ and test/ folders of <emotion>/ images")
    images, labels, splits, rows = [], [], [], []
    for part in parts:
        for cls_dir in sorted(p for p in (root / part).iterdir() if p.is_dir()):
            if cls_dir.name not in EMOTIONS:
                raise EdgeferError(
                    f"{cls_dir}: unknown class folder (expected {', '.join(EMOTIONS)})")
            for f in sorted(cls_dir.iterdir()):
                if f.suffix.lower() not in IMAGE_SUFFIXES:
                    continue
                img = cv2.imread(str(f), cv2.IMREAD_GRAYSCALE)
                if img is None:
                    bad(str(f), "unreadable image")
                    continue
                if img.shape != (IMAGE_SIZE, IMAGE_SIZE):
                    img = cv2.resize(img, (IMAGE_SIZE, IMAGE_SIZE), interpolation=cv2.INTER_AREA)
                images.append(img)
                labels.append(EMOTIONS.index(cls_dir.name))
                splits.append(_folder_split(part, f.name))
                rows.append(-1)
    if not images and not bad.count:
        raise EdgeferError(f"{root}: no images found under {', '.join(parts)}")
    return _faceset(images, labels, splits, rows, root)


def _folder_split(part: str, name: str) -> int:
    if part == "test" and name.startswith("PublicTest_"):
        return SPLITS.index("val")
    return SPLITS.index(part)


def _faceset(images: list, labels: list, splits: list, rows: list, path: Path) -> FaceSet:
    return FaceSet(
        images=np.stack(images) if images else np.zeros((0, IMAGE_SIZE, IMAGE_SIZE), np.uint8),
        labels=np.asarray(labels, np.int64),
        splits=np.asarray(splits, np.uint8),
        rows=np.asarray(rows, np.int64),
        source=str(path),
    )
