"""The benchmark harness (edgefer.bench.harness): shared options and their defaults, the
header naming the machine, markdown and JSON written atomically, one-line errors; and every
script in benchmarks/ built on it."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys

import numpy as np
import pytest
from helpers import REPO, assert_one_line_error, load_script

from edgefer.bench import harness
from edgefer.errors import EdgeferError
from edgefer.machine import machine_info
from edgefer.runtime.assets import ASSETS, YUNET

SCRIPTS = sorted((REPO / "benchmarks").glob("*.py"))
SCRIPT = REPO / "benchmarks" / "example.py"  # a script's __file__ (need not exist)


def test_shared_options_have_one_default_each(fer_path, monkeypatch):
    monkeypatch.setenv("EDGEFER_DATA", str(fer_path))
    monkeypatch.delenv("EDGEFER_DETECTOR", raising=False)
    p = harness.parser("Doc.", SCRIPT, "data", "detector", "model", "photo", "threads", "out")
    args = p.parse([])
    assert args.data == fer_path  # as the CLI resolves it: $EDGEFER_DATA
    assert args.detector == YUNET  # the YuNet shipped in the package
    assert args.model == ASSETS / "edge.int8.onnx"  # the default shipped model
    assert args.photo is None and args.threads is None  # scikit-image's photo, all cores
    assert args.out == SCRIPT.with_suffix("")  # benchmarks/NAME
    assert args.command == "python benchmarks/example.py"
    monkeypatch.setenv("EDGEFER_DETECTOR", str(ASSETS / "edge-s.onnx"))
    args = harness.parser("Doc.", SCRIPT, "detector", "threads", threads=2).parse(
        ["--threads", "3"])
    assert args.detector == ASSETS / "edge-s.onnx" and args.threads == 3
    assert not hasattr(args, "data") and not hasattr(args, "out")
    with pytest.raises(ValueError, match="no shared option frames"):
        harness.parser("Doc.", SCRIPT, "frames")


@pytest.mark.parametrize(("argv", "message"), [
    (["--data", "/no/such/fer.npz"], "error: dataset not found: /no/such/fer.npz"),
    (["--detector", "/no/such/yunet.onnx"], "error: face detector model not found"),
    (["--threads", "0"], "must be at least 1, not 0"),
    (["--bogus"], "unrecognized arguments: --bogus"),
])
def test_bad_options_are_one_line_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        harness.parser("Doc.", SCRIPT, "data", "detector", "threads").parse(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err


def test_header_names_the_command_and_the_machine():
    report = harness.Report.start("python benchmarks/example.py --n 3")
    m = machine_info()
    header = report.header
    assert "\n" not in header
    assert header.startswith("`python benchmarks/example.py --n 3` on ")
    for part in (m["cpu"], f"{m['cores']} cores", f"({m['isa']})", report.date,
                 f"onnxruntime {m['onnxruntime']}", f"OpenCV {m['opencv']}", f"numpy {m['numpy']}"):
        assert part in header, part
    assert "torch" not in header
    trained = harness.Report.start("x", torch=True)
    assert (f"torch {m['torch']}" in trained.header) == bool(m["torch"])


def test_table_markdown_formats_and_aligns():
    table = harness.Table({"model": "", "p50 ms": ".3f", "found": "d"}, title="**Speed**")
    assert table.add("edge", np.float32(0.25), np.int64(3)) == "| edge | 0.250 | 3 |"
    table.add("edge-s", None, 4)
    assert table.rows[0] == ["edge", 0.25, 3] and type(table.rows[0][2]) is int
    assert table.markdown().splitlines() == [
        "**Speed**", "", "| model | p50 ms | found |", "|---|---:|---:|",
        "| edge | 0.250 | 3 |", "| edge-s | - | 4 |"]
    with pytest.raises(ValueError, match="2 cells for 3 columns"):
        table.add("edge", 1.0)


def sample_report() -> harness.Report:
    report = harness.Report.start("python benchmarks/example.py")
    report.add("Some prose.")
    report.add(harness.Table({"n": "d", "fps": ".1f"})).add(5, 12.25)
    report.figures = {"raw": [1.5, 2.5], "n": 5}
    return report


def test_report_round_trips_through_json(tmp_path):
    report = sample_report()
    md, js = report.write(tmp_path / "out" / "example")
    assert (md.name, js.name) == ("example.md", "example.json")
    assert md.read_text() == report.markdown()
    assert report.markdown().splitlines()[0] == report.header
    assert "| 5 | 12.2 |" in md.read_text()
    assert harness.Report.from_json(json.loads(js.read_text())) == report
    assert report.write(tmp_path / "out" / "example.md") == (md, js)  # the ending dropped
    assert sorted(p.name for p in md.parent.iterdir()) == ["example.json", "example.md"]


def test_report_writes_are_atomic(tmp_path, monkeypatch):
    stem = tmp_path / "example"
    sample_report().write(stem)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    broken = sample_report()
    broken.figures = {"not json": object()}
    with pytest.raises(TypeError):
        broken.write(stem)  # fails before either file is touched
    monkeypatch.setattr("edgefer.atomic.os.replace", lambda *a: (_ for _ in ()).throw(
        OSError(28, "No space left on device")))
    changed = sample_report()
    changed.add("More prose.")
    with pytest.raises(EdgeferError, match=r"cannot write .*example\.md: No space left"):
        changed.write(stem)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # no debris


def test_run_turns_user_errors_into_one_line(capsys):
    def main() -> None:
        raise EdgeferError("no such thing")

    with pytest.raises(SystemExit) as exit_info:
        harness.run(main)
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == "error: no such thing\n"


def test_read_photo(tmp_path):
    assert harness.read_photo(None).shape == (512, 512, 3)  # scikit-image's astronaut
    (tmp_path / "bad.png").write_bytes(b"not an image")
    with pytest.raises(EdgeferError, match="cannot read a photo from"):
        harness.read_photo(tmp_path / "bad.png")


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_every_script_runs_on_the_harness(script, capsys):
    source = script.read_text()
    assert "ArgumentParser(" not in source and "harness.run(main)" in source
    paths = [n.value for n in ast.walk(ast.parse(source))
             if isinstance(n, ast.Constant) and isinstance(n.value, str)
             and re.match(r"(/|~/)[\w.-]+/", n.value)]
    assert not paths, f"absolute paths in {script.name}: {paths}"
    with pytest.raises(SystemExit) as exit_info:
        load_script(script).main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: python benchmarks/{script.name}")
    assert " ".join(harness.EPILOG.split()) in " ".join(out.split())


def test_a_script_in_its_own_process(fer_path):
    script = str(REPO / "benchmarks" / "detect_soak.py")
    proc = subprocess.run([sys.executable, script, "--data", str(fer_path), "--frames", "2",
                           "--block", "5"], capture_output=True, text=True)
    assert_one_line_error(proc, "error: --block (5) is longer than the run (--frames 2)")
    proc = subprocess.run([sys.executable, script, "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "--frames" in proc.stdout


def test_ab_latency_writes_its_table(tmp_path, capsys):
    load_script(REPO / "benchmarks" / "ab_latency.py").main(
        ["edge-s", "--blocks", "1", "--runs", "2", "--flip-tta", "--out", str(tmp_path / "ab")])
    report = harness.Report.from_json(json.loads((tmp_path / "ab.json").read_text()))
    table = report.blocks[1]
    assert [row[0] for row in table.rows] == ["edge-s", "edge-s, crop to probs",
                                              "edge-s, crop to probs, flip TTA"]
    assert all(0 < row[2] <= row[1] for row in table.rows)  # p10 <= p50
    assert (tmp_path / "ab.md").read_text() == report.markdown()
    assert f"wrote {tmp_path / 'ab.md'}" in capsys.readouterr().out


def test_soak_runs_the_default_path_over_a_looped_video(fer_path, tmp_path):
    soak = load_script(REPO / "benchmarks" / "detect_soak.py")
    from edgefer.bench.suite import PIPELINE_FACES
    from edgefer.bench.videos import composite_video
    from edgefer.data import load_faces
    from edgefer.runtime.recognizer import Recognizer
    from edgefer.runtime.sources import FrameSource

    faces = load_faces(fer_path).split("test").images[PIPELINE_FACES]
    video = composite_video(faces, tmp_path / "three.avi", 3)
    results = list(Recognizer(threads=1).stream(FrameSource(str(video), loop=True), 8))
    assert [r.index for r in results] == list(range(8))  # one stream past the file's end
    assert all(len(r.faces) == 4 for r in results)
    soak.main(["--data", str(fer_path), "--frames", "6", "--block", "3", "--threads", "1",
               "--out", str(tmp_path / "soak")])
    report = json.loads((tmp_path / "soak.json").read_text())
    assert [row[0] for row in report["blocks"][1]["table"]["rows"]] == [3, 6]
    assert "detection every 5 frames" in report["blocks"][0]
