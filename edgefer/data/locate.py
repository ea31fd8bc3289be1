"""Find the dataset: a path the user gives, `EDGEFER_DATA`, or the edgefer cache directory."""

from __future__ import annotations

import json
import os
from pathlib import Path

from edgefer.cache import cache_dir
from edgefer.errors import EdgeferError

DATA_FILES = ("fer2013.npz", "fer2013.csv")
CACHE_NAMES = (*DATA_FILES, "fer2013")  # the files, or an image-folder root


def recorded_data(run: Path) -> Path | None:
    """The dataset a training run recorded in its config.json (`run` is the run directory or
    a checkpoint in it), when that file still exists."""
    config = (run if run.is_dir() else run.parent) / "config.json"
    try:
        recorded = json.loads(config.read_text()).get("data")
    except (OSError, ValueError, AttributeError):
        return None
    return Path(recorded) if isinstance(recorded, str) and Path(recorded).exists() else None


def _dataset_in(p: Path) -> Path:
    """`p`, or the FER2013 file inside it where `p` is a folder holding one (such as a copy
    of shared/data/fer2013/) rather than an image-folder root."""
    if p.is_dir() and not (p / "train").is_dir():
        for name in DATA_FILES:
            if (p / name).is_file():
                return p / name
    return p


def resolve_data(path: str | Path | None, run: Path | None = None) -> Path:
    """The dataset path to read: `path`, else the data `run` was trained on, else
    `EDGEFER_DATA`, else the cache; or a one-line error saying where to put it."""
    if (path is None or str(path) == "") and run is not None:
        path = recorded_data(run)
    if path is None or str(path) == "":
        path = os.environ.get("EDGEFER_DATA") or None
    if path is not None:
        p = Path(path).expanduser()
        if not p.exists():
            raise EdgeferError(f"dataset not found: {p}")
        return _dataset_in(p)
    for name in CACHE_NAMES:
        p = cache_dir() / "data" / name
        if p.exists():
            return p
    raise EdgeferError(
        "no dataset given: pass --data PATH or set EDGEFER_DATA to FER2013 as fer2013.csv "
        "(Kaggle 'challenges-in-representation-learning'), the train/ test/ image folders "
        f"(Kaggle 'msambare/fer2013') or an .npz, or place one in {cache_dir() / 'data'}"
    )
