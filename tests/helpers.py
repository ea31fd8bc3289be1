"""Helpers shared by test files (the one home for them; conftest.py holds only fixtures):
running the CLI as a user would, error assertions, run histories, result builders."""

from __future__ import annotations

import base64
import csv
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import cv2
import pytest

from edgefer.runtime.results import FaceResult

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "fer2013" / "fer2013.npz"


def data_path() -> Path:
    """The FER2013 file the tests use: $EDGEFER_DATA, else ../shared's."""
    return Path(os.environ.get("EDGEFER_DATA") or DEFAULT_DATA)


def load_script(path: Path) -> ModuleType:
    """A repository script (benchmarks/NAME.py, docs/tables.py) imported as a module, its
    main not run."""
    name = f"script_{path.parent.name}_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


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


def chromium_path() -> str:
    """Headless Chromium's executable; skip (fail in CI) where it is not installed."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        message = "chromium not found: apt-get install chromium (.ci/run does)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


class Browser:
    """Headless Chromium driven over the DevTools protocol on a pipe (fds 3 and 4), for
    pages that never finish loading (a live MJPEG stream): open, evaluate, screenshot."""

    def __init__(self, profile: Path, size: tuple[int, int] = (1280, 760)) -> None:
        to_chrome, self._to = os.pipe()
        self._from, from_chrome = os.pipe()

        def wire() -> None:  # in the child: our pipes become its fds 3 (in) and 4 (out)
            os.dup2(to_chrome, 3)
            os.dup2(from_chrome, 4)

        self.proc = subprocess.Popen(
            [chromium_path(), "--headless", "--no-sandbox", "--disable-gpu",
             "--hide-scrollbars", "--remote-debugging-pipe", f"--user-data-dir={profile}",
             f"--window-size={size[0]},{size[1]}", "about:blank"],
            pass_fds=(3, 4), preexec_fn=wire, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        os.close(to_chrome)
        os.close(from_chrome)
        self._next, self._buffer, self.session = 0, b"", None

    def call(self, method: str, **params) -> dict:
        """Send one command and return its result (events in between are dropped)."""
        self._next += 1
        message = {"id": self._next, "method": method, "params": params}
        if self.session:
            message["sessionId"] = self.session
        os.write(self._to, json.dumps(message).encode() + b"\0")
        while True:
            while b"\0" not in self._buffer:
                chunk = os.read(self._from, 1 << 20)
                if not chunk:
                    raise RuntimeError("chromium closed the pipe")
                self._buffer += chunk
            raw, self._buffer = self._buffer.split(b"\0", 1)
            reply = json.loads(raw)
            if reply.get("id") == self._next:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]

    def open(self, url: str) -> None:
        target = self.call("Target.createTarget", url=url)["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target,
                                 flatten=True)["sessionId"]

    def evaluate(self, expression: str) -> object:
        return self.call("Runtime.evaluate", expression=expression,
                         returnByValue=True)["result"].get("value")

    def screenshot(self, path: Path) -> Path:
        path.write_bytes(base64.b64decode(self.call("Page.captureScreenshot")["data"]))
        return path

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()
        os.close(self._to)
        os.close(self._from)
