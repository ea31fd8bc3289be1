"""Find the dataset: a path the user gives, `EDGEFER_DATA`, or the edgefer cache directory."""

from __future__ import annotations

import os
from pathlib import Path

from edgefer.errors import EdgeferError

CACHE_NAMES = ("fer2013.npz", "fer2013.csv", "fer2013")


def cache_dir() -> Path:
    """`EDGEFER_CACHE`, else `$XDG_CACHE_HOME/edgefer`, else `~/.cache/edgefer`."""
    if env := os.environ.get("EDGEFER_CACHE"):
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "edgefer"


def resolve_data(path: str | Path | None) -> Path:
    """The dataset path to read, or a one-line error saying where to put it."""
    if path is None or str(path) == "":
        path = os.environ.get("EDGEFER_DATA") or None
    if path is not None:
        p = Path(path).expanduser()
        if not p.exists():
            raise EdgeferError(f"dataset not found: {p}")
        return p
    for name in CACHE_NAMES:
        p = cache_dir() / "data" / name
        if p.exists():
            return p
    raise EdgeferError(
        "no dataset given: pass --data PATH or set EDGEFER_DATA to FER2013 as fer2013.csv "
        "(Kaggle 'challenges-in-representation-learning'), the train/ test/ image folders "
        f"(Kaggle 'msambare/fer2013') or an .npz, or place one in {cache_dir() / 'data'}"
    )
