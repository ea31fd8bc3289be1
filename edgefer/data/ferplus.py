"""Microsoft's FER+ relabelling (`fer2013new.csv`), joined to FER2013 by row index."""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

import numpy as np

from edgefer.data.faceset import USAGE_TO_SPLIT, FaceSet
from edgefer.errors import EdgeferError

FILE_NAME = "fer2013new.csv"
VOTE_COLUMNS = ("neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear",
                "contempt", "unknown", "NF")
# FER+ vote columns in FER2013 label order.
TO_FER2013 = ("anger", "disgust", "fear", "happiness", "sadness", "surprise", "neutral")
# Rows whose FER+ image was overwritten by a later row of the same name (see SOURCE.md).
UNRELIABLE_ROWS = (5274, 33200)


def read_votes(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(N, 10) vote counts in VOTE_COLUMNS order and (N,) split codes from `fer2013new.csv`."""
    try:
        with path.open(newline="") as f:
            reader = csv.DictReader(f)
            missing = [c for c in ("Usage", *VOTE_COLUMNS) if c not in (reader.fieldnames or [])]
            if missing:
                raise EdgeferError(f"{path}: not a FER+ label file, missing columns {missing}")
            votes, usage = [], []
            for i, rec in enumerate(reader):
                try:
                    votes.append([float(rec[c]) for c in VOTE_COLUMNS])
                    usage.append(USAGE_TO_SPLIT[rec["Usage"]])
                except (KeyError, TypeError, ValueError):
                    raise EdgeferError(f"{path}:{i + 2} (row {i}): malformed FER+ row") from None
    except OSError as e:
        raise EdgeferError(f"{path}: cannot read FER+ labels: {e}") from None
    return np.asarray(votes, np.float32).reshape(-1, len(VOTE_COLUMNS)), np.asarray(usage)


def face_votes(faces: FaceSet, data_path: Path) -> np.ndarray:
    """(N, 10) FER+ vote counts of each face in VOTE_COLUMNS order, joined by row from
    `fer2013new.csv` beside the dataset."""
    csv_path = (data_path if data_path.is_dir() else data_path.parent) / FILE_NAME
    if not csv_path.exists():
        raise EdgeferError(f"FER+ labels need {FILE_NAME} beside the dataset: {csv_path} "
                           "(from github.com/microsoft/FERPlus)")
    if (faces.rows < 0).any():
        raise EdgeferError("FER+ labels join by row order: use the fer2013.csv or .npz form")
    votes, usage = read_votes(csv_path)
    if faces.rows.max() >= len(votes):
        raise EdgeferError(f"{csv_path}: {len(votes)} rows, dataset has row {faces.rows.max()}")
    if (usage[faces.rows] != faces.splits).any():
        raise EdgeferError(f"{csv_path}: Usage column disagrees with the dataset's splits")
    return votes[faces.rows]


def emotion_shares(votes: np.ndarray) -> np.ndarray:
    """(N, 7) share of each face's votes on the seven FER2013 emotions, in FER2013 label
    order; a row of zeros where no vote went to one of them."""
    emo = votes[:, [VOTE_COLUMNS.index(c) for c in TO_FER2013]]
    return (emo / np.maximum(emo.sum(1, keepdims=True), 1)).astype(np.float32)


def vote_shares(faces: FaceSet, data_path: Path) -> np.ndarray:
    """The faces' FER+ `emotion_shares`, zeros for the rows whose FER+ image is unreliable."""
    shares = emotion_shares(face_votes(faces, data_path))
    shares[np.isin(faces.rows, UNRELIABLE_ROWS)] = 0
    return shares


def apply_ferplus(faces: FaceSet, data_path: Path, soft: bool) -> FaceSet:
    """Replace labels with FER+ majority labels (and soft targets when `soft`).

    Faces whose most-voted FER+ class is contempt, unknown or not-a-face are dropped.
    """
    v = face_votes(faces, data_path)
    targets = emotion_shares(v)
    keep = (v.argmax(1) < VOTE_COLUMNS.index("contempt")) & (targets.sum(1) > 0)
    keep &= ~np.isin(faces.rows, UNRELIABLE_ROWS)
    faces, targets = faces.select(keep), targets[keep]
    return replace(faces, labels=targets.argmax(1).astype(np.int64),
                   targets=targets if soft else None)
