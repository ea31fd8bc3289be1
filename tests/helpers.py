"""Helpers shared by test files (the one home for them; conftest.py holds only fixtures):
running the CLI as a user would, error assertions, run histories, result builders."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import cv2

from edgefer.runtime.results import FaceResult

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "fer2013" / "fer2013.npz"


def data_path() -> Path:
    """The FER2013 file the tests use: $EDGEFER_DATA, else ../shared's."""
    return Path(os.environ.get("EDGEFER_DATA") or DEFAULT_DATA)


def run_cli(*args: str, check: bool = True, env: dict | None = None,
            **kwargs) -> subprocess.CompletedProcess:
    """Run `python -m edgefer ARGS` in a real process, as a user would."""
    env = {**(os.environ if env is None else env), "PYTHONUNBUFFERED": "1", "COLUMNS": "120"}
    proc = subprocess.run([sys.executable, "-m", "edgefer", *args], capture_output=True,
                          text=True, env=env, **kwargs)
    if check and proc.returncode != 0:
        raise AssertionError(f"edgefer {' '.join(args)} failed ({proc.returncode}):\n"
                             f"{proc.stdout}\n{proc.stderr}")
    return proc


def assert_one_line_error(proc: subprocess.CompletedProcess, *needles: str) -> None:
    """A user error: non-zero exit, no traceback, one line naming the problem."""
    assert proc.returncode != 0, proc.stdout
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def history(run: Path) -> list[dict]:
    """A training run's metrics.csv rows."""
    with (run / "metrics.csv").open() as f:
        return list(csv.DictReader(f))


def count_frames(path: Path) -> int:
    """Frames OpenCV can read back from a video file."""
    cap = cv2.VideoCapture(str(path))
    n = 0
    while cap.read()[0]:
        n += 1
    return n


def face_result(box: tuple[int, int, int, int], probs: dict[str, float]) -> FaceResult:
    """A detected face whose emotion is the most probable label of `probs`."""
    emotion = max(probs, key=probs.get)
    return FaceResult(box=box, score=0.9, emotion=emotion, confidence=probs[emotion],
                      probs=dict(probs))
