"""`Recognizer.run` and `edgefer detect`'s outputs: the annotated video, the CSV and JSON
records (schema, time, frames without faces), the summary and timeline, the CLI as a thin
mapping onto the library, and one-line errors for bad outputs."""

from __future__ import annotations

import ast
import csv
import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from helpers import REPO, assert_one_line_error, count_frames, run_cli

from edgefer import EdgeferError, Recognizer
from edgefer.bench.composite import composite_frame
from edgefer.bench.suite import PIPELINE_FACES
from edgefer.bench.videos import composite_video, write_video
from edgefer.runtime.records import SCHEMA_VERSION, csv_header, read_csv
from edgefer.runtime.run import RunSummary

FPS = 10


@pytest.fixture(scope="module")
def video(fer, tmp_path_factory) -> Path:
    """4 real test faces swaying for 10 frames, then 5 frames without a face (from a
    detection frame on: carried boxes end there), at 10 FPS."""
    faces = fer.split("test").images[PIPELINE_FACES]
    frames = [composite_frame(faces, int(8 * np.sin(t / 3))) for t in range(10)]
    frames += [np.full((480, 640, 3), 120, np.uint8)] * 5
    path = tmp_path_factory.mktemp("video") / "four.avi"
    write_video(path, frames, fps=FPS)
    return path


@pytest.fixture(scope="module")
def recognizer(yunet) -> Recognizer:
    return Recognizer(detector=yunet, threads=2, keep=0)


def test_run_writes_the_video_csv_json_and_summary(recognizer, video, tmp_path):
    done = recognizer.run(video, save=tmp_path / "out.mp4", csv=tmp_path / "out.csv",
                          json=tmp_path / "out.jsonl")
    assert isinstance(done, RunSummary) and done.frames == 15 and not done.interrupted
    assert set(done.outputs) == {"save", "csv", "json"} and done.fps > 0
    assert count_frames(tmp_path / "out.mp4") == 15
    with (tmp_path / "out.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == csv_header(recognizer.labels)
    faced = [r for r in rows if r["emotion"]]
    assert len(faced) == 10 * 4 and {r["track_id"] for r in faced} == {"0", "1", "2", "3"}
    empty = [r for r in rows if not r["emotion"]]  # one row per faceless frame: no holes
    assert [int(r["frame"]) for r in empty] == [10, 11, 12, 13, 14]
    assert all(r["track_id"] == r["x"] == r["angry"] == "" for r in empty)
    assert sorted({float(r["time_s"]) for r in rows}) == pytest.approx(
        [i / FPS for i in range(15)])  # the container's timestamps
    for r in faced:
        assert sum(float(r[k]) for k in recognizer.labels) == pytest.approx(1, abs=2e-3)
        assert r["emotion"] == max(recognizer.labels, key=lambda k: float(r[k]))
    lines = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [x["schema"] for x in lines] == [SCHEMA_VERSION] * 15
    assert [x["time_s"] for x in lines] == pytest.approx([i / FPS for i in range(15)])
    tracks = done.tracks
    assert [t.track_id for t in tracks] == [0, 1, 2, 3]
    for t in tracks:
        assert t.frames == 10 and t.dwell_s == pytest.approx(1.0)
        assert sum(t.shares.values()) == pytest.approx(1) and t.dominant in t.shares
    assert "dwell s" in done.format() and len(done.format().splitlines()) == 5
    assert not list(tmp_path.glob(".*tmp*"))


def test_cli_and_api_give_the_same_records(recognizer, video, yunet, tmp_path):
    recognizer.run(video, csv=tmp_path / "api.csv")
    proc = run_cli("detect", "--source", str(video), "--detector", str(yunet), "--threads", "2",
                   "--keep", "0",
                   "--csv", str(tmp_path / "cli.csv"), "--summary", "--timeline",
                   str(tmp_path / "timeline.png"))
    assert (tmp_path / "cli.csv").read_text() == (tmp_path / "api.csv").read_text()
    assert "dwell s" in proc.stdout and "15 frames in" in proc.stderr
    image = cv2.imread(str(tmp_path / "timeline.png"))
    assert image is not None and image.std() > 10  # drawn, not blank
    summary = json.loads(run_cli("summarize", str(tmp_path / "cli.csv"), "--json").stdout)
    assert summary["frames"] == 15 and [t["track_id"] for t in summary["tracks"]] == [0, 1, 2, 3]
    labels, records = read_csv(tmp_path / "cli.csv")
    assert labels == recognizer.labels and len(records) == 45


def test_lists_and_streams_are_an_explicit_choice(recognizer, video, monkeypatch):
    results = recognizer(video)
    assert isinstance(results, list) and len(results) == 15
    lazy = recognizer(video, stream=True)
    assert isinstance(lazy, Iterator) and next(lazy).index == 0
    assert results[3].time_s == pytest.approx(0.3)

    class Camera:  # a camera that opens and keeps sending the same frame
        def __init__(self, *args):
            pass

        def isOpened(self):
            return True

        def read(self):
            return True, np.full((120, 160, 3), 90, np.uint8)

        def get(self, prop):
            return 30.0

        def release(self):
            pass

    monkeypatch.setattr(cv2, "VideoCapture", Camera)
    with pytest.raises(ValueError, match="may never end: pass stream=True"):
        recognizer(0)
    frames = recognizer(0, max_frames=3)
    assert [r.index for r in frames] == [0, 1, 2]
    assert 0 <= frames[0].time_s <= frames[2].time_s < 10  # seconds since the camera opened


def test_an_iterator_of_frames_is_one_live_video(recognizer, video):
    """Frames the caller captures itself (e.g. picamera2), handed over as a generator, run
    the video path: the same faces and track ids as the file, and the generator is closed
    when the results stop."""
    frames = [f.image for f in recognizer.open(video)]
    closed = []

    def camera():
        try:
            yield from frames
        finally:
            closed.append(True)

    from_file = recognizer(video)
    mine = list(recognizer.stream(camera()))
    assert [[(f.track_id, f.box, f.emotion) for f in r.faces] for r in mine] == \
        [[(f.track_id, f.box, f.emotion) for f in r.faces] for r in from_file]
    assert closed and 0 == mine[0].time_s <= mine[1].time_s <= mine[-1].time_s < 60
    with pytest.raises(ValueError, match="may never end: pass stream=True"):
        recognizer(camera())
    assert len(recognizer(camera(), max_frames=2)) == 2
    with pytest.raises(ValueError, match="frame 1 of the iterator is a str, not an image"):
        list(recognizer.stream(iter([frames[0], "frame.jpg"])))


def test_library_errors_are_the_builtin_kinds(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"missing\.onnx"):
        Recognizer(tmp_path / "missing.onnx")
    with pytest.raises(ValueError, match="score threshold"):
        Recognizer(score=2.0)
    with pytest.raises(ValueError, match="detect_every"):
        Recognizer(detect_every=0)
    with pytest.raises(EdgeferError):
        Recognizer(smoothing=1.5)


def test_bad_outputs_are_one_line_errors(video, photo, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    cases = [
        (["--source", str(video), "--csv", str(blocker / "out.csv")], "cannot write"),
        (["--source", str(video), "--save", str(tmp_path / "out.txt")],
         "a video output needs one of"),
        (["--camera", "99", "--csv", str(tmp_path / "cam.csv")], "cannot open camera 99"),
        (["--source", str(video), "--max-frames", "0"], "max_frames must be at least 1"),
    ]
    for args, message in cases:
        assert_one_line_error(run_cli("detect", *args, check=False), message)
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    assert_one_line_error(run_cli("summarize", str(bad), check=False), "not a CSV written by")
    assert_one_line_error(run_cli("summarize", str(tmp_path / "none.csv"), check=False),
                          "CSV not found")
    assert not (tmp_path / "cam.csv").exists() and not list(tmp_path.glob(".*tmp"))


def test_a_camera_without_frames_leaves_no_csv(monkeypatch, tmp_path, capsys):
    from edgefer.cli import main

    class Silent:  # opens, then never delivers a frame
        def __init__(self, *args):
            pass

        def isOpened(self):
            return True

        def read(self):
            return False, None

        def get(self, prop):
            return 0.0

        def release(self):
            pass

    monkeypatch.setattr(cv2, "VideoCapture", Silent)
    out = tmp_path / "cam.csv"
    monkeypatch.setattr(sys, "argv", ["edgefer", "detect", "--camera", "0", "--detector",
                                      "none", "--csv", str(out)])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "camera 0 stopped sending frames after 0" in err[0]
    assert not out.exists() and not list(tmp_path.iterdir())


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_run_finishes_its_files(fer, yunet, tmp_path, sig):
    video = composite_video(fer.split("test").images[PIPELINE_FACES], tmp_path / "long.avi", 600)
    out, table = tmp_path / "cut.mp4", tmp_path / "cut.csv"
    proc = subprocess.Popen([sys.executable, "-m", "edgefer", "detect", "--source", str(video),
                             "--detector", str(yunet), "--json", "--save", str(out),
                             "--csv", str(table)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            # a runner started in the background may ignore SIGINT; a
                            # terminal's Ctrl-C never is
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    for _ in range(5):
        proc.stdout.readline()
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted after" in err and "Traceback" not in err
    frames = count_frames(out)
    assert 4 <= frames < 600  # the fifth frame may still be on its way
    _, records = read_csv(table)
    assert len({r.frame for r in records}) == frames


def _defaults(func: str, names: set[str]) -> dict[str, str]:
    """A CLI command's option defaults as source text, by parameter name."""
    tree = ast.parse((REPO / "edgefer/cli.py").read_text())
    fn = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == func)
    args = fn.args.args[-len(fn.args.defaults):]
    return {a.arg: ast.unparse(d) for a, d in zip(args, fn.args.defaults, strict=True)
            if a.arg in names}


def test_the_cli_restates_no_default_and_runs_no_loop():
    from dataclasses import fields

    from edgefer.export import ExportOptions
    from edgefer.runtime.defaults import DetectDefaults

    detect = {f.name for f in fields(DetectDefaults)}
    assert _defaults("detect", detect) == {n: f"D.{n}" for n in detect}
    export = {f.name for f in fields(ExportOptions)} - {"formats"}
    assert _defaults("export_cmd", export) == {n: f"E.{n}" for n in export}
    cli = (REPO / "edgefer/cli.py").read_text()
    for loop_part in ("for result in", "FrameWriter", "VideoWriter", "imshow", "CsvRecords"):
        assert loop_part not in cli


def test_a_long_run_keeps_bounded_records_and_exact_track_figures(monkeypatch):
    from edgefer.runtime import run
    from edgefer.runtime.results import FaceResult, FrameResult

    monkeypatch.setattr(run, "MAX_RECORDS", 100)
    labels = ["happy", "sad"]
    summary = run.RunSummary(labels)
    for i in range(1000):  # 100 s at 10 FPS, one face: happy 2 frames in 3
        face = FaceResult(box=(0, 0, 9, 9), score=0.9, emotion="sad" if i % 3 == 0 else "happy",
                          confidence=0.7, probs={"happy": 0.6, "sad": 0.4}, track_id=3)
        summary.add(FrameResult(np.zeros((2, 2, 3), np.uint8), [face], labels, index=i,
                                time_s=i / 10))
    assert len(summary.records) <= 100 and summary.stride == 16
    assert all(r.frame % 16 == 0 for r in summary.records)
    (track,) = summary.tracks  # counted over every frame, not the sample
    assert track.track_id == 3 and track.frames == 1000
    assert track.dwell_s == pytest.approx(100.0)
    assert track.shares == {"happy": 0.666, "sad": 0.334}
