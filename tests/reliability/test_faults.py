"""Faults: kills at random moments, a full disk, corrupt video, a camera that disappears."""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from helpers import assert_one_line_error, count_frames, history, run_cli

from edgefer.bench.videos import write_video
from edgefer.cli import main
from edgefer.train.checkpoint import load_checkpoint

EPOCHS = 4


def train_args(data: Path, out: Path) -> list[str]:
    return ["--data", str(data), "--model", "edge-s", "--epochs", str(EPOCHS), "--batch-size",
            "32", "--out", str(out)]


def start(args: list[str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "edgefer", "train", *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def kill_when(proc: subprocess.Popen, ready, timeout: float = 120, kill: bool = True) -> bool:
    """Wait until `ready()` holds, then SIGKILL `proc` (unless `kill` is False); returns
    whether it was killed (False: it finished first, or `kill` is False)."""
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        if ready():
            if not kill:
                return False
            proc.kill()
            proc.wait()
            return True
        time.sleep(0.005)
    proc.wait()
    return False


def partial_write_then_kill(proc: subprocess.Popen, fifo: Path, timeout: float = 120) -> int:
    """Let `proc` write part of a checkpoint into `fifo`, then SIGKILL it mid-write."""
    fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    got, deadline = 0, time.monotonic() + timeout
    try:
        while got < 200_000 and proc.poll() is None and time.monotonic() < deadline:
            with contextlib.suppress(BlockingIOError):
                got += len(os.read(fd, 65536))
            time.sleep(0.01)
    finally:
        proc.kill()
        proc.wait()
        os.close(fd)
    return got


def assert_checkpoints_sound(run: Path) -> int:
    """Every checkpoint present loads; returns the epoch last.pt holds (0 if none)."""
    for name in ("best.pt", "last.pt"):
        if (run / name).exists():
            load_checkpoint(run, name=name)
    if not (run / "last.pt").exists():
        return 0
    return load_checkpoint(run, name="last.pt")["epoch"]


@pytest.fixture(scope="module")
def reference(small_npz, tmp_path_factory) -> list[str]:
    """val accuracy per epoch of an uninterrupted run."""
    out = tmp_path_factory.mktemp("ref") / "run"
    run_cli("train", *train_args(small_npz, out))
    return [r["val_acc"] for r in history(out)]


@pytest.mark.slow
def test_random_kills_then_resume_equal_the_uninterrupted_run(small_npz, tmp_path, reference):
    """Killed mid-epoch at random moments and once in the middle of a checkpoint write:
    no checkpoint is ever unreadable, each resume starts after the last complete epoch, and
    the finished run's metrics equal the uninterrupted run's exactly."""
    out = tmp_path / "run"
    rng = np.random.default_rng(7)
    epochs_seen = []
    # 1) at a random moment in the first epoch, before any checkpoint exists
    proc = start(train_args(small_npz, out))
    stop_at = time.monotonic() + rng.uniform(1.0, 3.0)
    assert kill_when(proc, lambda: time.monotonic() > stop_at)
    assert assert_checkpoints_sound(out) == 0
    # 2) in the middle of writing epoch 2's last.pt: its temporary file is a FIFO read slowly
    proc = start(train_args(small_npz, out))
    assert not kill_when(proc, lambda: (out / "last.pt").exists() or proc.poll() is not None,
                         kill=False)
    fifo = out / f".last.pt.{proc.pid}.tmp"
    os.mkfifo(fifo)
    assert partial_write_then_kill(proc, fifo) > 0
    epochs_seen.append(assert_checkpoints_sound(out))
    assert epochs_seen == [1]
    # 3) at random moments of later epochs, resuming each time
    while len(epochs_seen) < 6:
        proc = start(["--resume", str(out)])
        stop_at = time.monotonic() + rng.uniform(2.0, 6.0)
        if not kill_when(proc, lambda t=stop_at: time.monotonic() > t):
            break  # it finished first
        epochs_seen.append(assert_checkpoints_sound(out))
    assert epochs_seen == sorted(epochs_seen)  # never lost a completed epoch
    if load_checkpoint(out, name="last.pt")["epoch"] < EPOCHS:
        run_cli("train", "--resume", str(out))
    assert [r["val_acc"] for r in history(out)] == reference
    assert not list(out.glob(".*.tmp"))  # the resume cleared the half-written file


def limited(max_bytes: int):
    """preexec_fn: no file the child writes may exceed `max_bytes` (a disk that fills up);
    Python ignores SIGXFSZ, so a write past it fails with EFBIG."""
    return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))


def test_disk_full_during_a_checkpoint_write(trained_run, fer_path, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    before = (run / "last.pt").read_bytes()
    cap = (run / "best.pt").stat().st_size + 1000  # best.pt fits, last.pt does not
    proc = run_cli("train", "--resume", str(run), "--epochs", "2", check=False,
                   preexec_fn=limited(cap))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    error = proc.stderr.strip().splitlines()[-1]  # after the run's own progress lines
    assert error.startswith("error: cannot write") and "last.pt: File too large" in error
    assert (run / "last.pt").read_bytes() == before
    assert load_checkpoint(run, name="last.pt")["epoch"] == 1
    assert not list(run.glob(".*.tmp"))
    run_cli("train", "--resume", str(run), "--epochs", "2")  # space again: it carries on
    assert [int(r["epoch"]) for r in history(run)] == [1, 2]


def test_disk_full_during_an_export(trained_run, exported, fer_path, tmp_path):
    out = tmp_path / "export"
    shutil.copytree(exported, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    proc = run_cli("export", str(trained_run), "--int8", "--data", str(fer_path), "--out",
                   str(out), "--calib-size", "50", "--latency-runs", "5", check=False,
                   preexec_fn=limited(400_000))
    assert_one_line_error(proc, "cannot write", "File too large")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # untouched, no debris


def test_video_with_corrupt_frames_in_the_middle(fer, exported, tmp_path):
    faces = fer.split("test").images[:60]
    frames = [cv2.cvtColor(cv2.resize(f, (240, 240)), cv2.COLOR_GRAY2BGR) for f in faces]
    path = tmp_path / "clip.avi"
    write_video(path, frames)
    data = bytearray(path.read_bytes())
    starts = [i for i in range(len(data) - 1) if data[i:i + 2] == b"\xff\xd8"]
    assert len(starts) == 60
    rng = np.random.default_rng(0)
    for k in (20, 21, 22, 40):  # overwrite all but the start of four frames with noise
        a, b = starts[k] + 200, starts[k + 1] - 100
        data[a:b] = rng.integers(0, 256, b - a, dtype=np.uint8).tobytes()
    path.write_bytes(bytes(data))
    out = tmp_path / "out.avi"
    proc = run_cli("detect", "--source", str(path), "--model", str(exported / "model.onnx"),
                   "--detector", "none", "--json", "--save", str(out))
    assert len(proc.stdout.splitlines()) == 56
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert lines[0].endswith("skipped 4 undecodable frame(s)"), proc.stderr
    assert lines[1:] == [f"save: 56 frame(s) -> {out}", lines[2]], proc.stderr  # no FFmpeg noise
    assert lines[2].startswith("56 frames in")
    assert count_frames(out) == 56


class UnpluggedCamera:
    """cv2.VideoCapture stand-in: a camera that gives 10 frames, then is unplugged."""

    opened = 0

    def __init__(self, index):
        UnpluggedCamera.opened += 1
        self.live = UnpluggedCamera.opened == 1
        self.frames = 10

    def isOpened(self):
        return self.live

    def get(self, prop):
        return 30.0

    def read(self):
        if self.live and self.frames:
            self.frames -= 1
            return True, np.full((120, 160, 3), 128, np.uint8)
        return False, None

    def release(self):
        pass


def test_camera_that_disappears(monkeypatch, exported, tmp_path, capsys):
    UnpluggedCamera.opened = 0
    monkeypatch.setattr(cv2, "VideoCapture", UnpluggedCamera)
    out = tmp_path / "cam.avi"
    monkeypatch.setattr(sys, "argv", ["edgefer", "detect", "--camera", "0", "--reconnect", "2",
                                      "--model", str(exported / "model.onnx"), "--detector",
                                      "none", "--save", str(out)])
    with pytest.raises(SystemExit) as exit_info:
        main()
    monkeypatch.undo()
    assert exit_info.value.code == 2
    assert "camera 0 stopped sending frames after 10 (2 reconnects failed)" in \
        " ".join(capsys.readouterr().err.split())
    assert UnpluggedCamera.opened == 3  # the first open and two reconnect attempts
    assert count_frames(out) == 10  # what came before the unplug is saved and playable
