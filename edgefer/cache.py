"""Where edgefer looks for datasets a user placed there, and where tests keep their wheels."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """`EDGEFER_CACHE`, else `$XDG_CACHE_HOME/edgefer`, else `~/.cache/edgefer`."""
    if env := os.environ.get("EDGEFER_CACHE"):
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "edgefer"
