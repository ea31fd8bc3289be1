"""What a user installs: the wheel holds every module, the shipped models and the face
detector with its licence, and the runtime-only install (no torch) runs detect, evaluate,
bench and the Python API offline: no network, no cache directory."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from helpers import REPO

from edgefer.cache import cache_dir

BUILD_LEFTOVERS = shutil.ignore_patterns(".git", ".venv", "runs", "build", "dist", "*.egg-info",
                                         "__pycache__", ".*_cache", ".hypothesis")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel `pip install .` would install, built from a clean copy of the tree."""
    src = tmp_path_factory.mktemp("src") / "edgefer"
    shutil.copytree(REPO, src, ignore=BUILD_LEFTOVERS)
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "--disable-pip-version-check", "-q", "-w", str(out), str(src)], check=True)
    return next(out.glob("edgefer-*.whl"))


def test_wheel_holds_every_module_and_the_shipped_models(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    files = [*(REPO / "edgefer").rglob("*.py"), *(REPO / "edgefer").rglob("*.html"),
             *(REPO / "edgefer/assets").iterdir()]
    expected = {p.relative_to(REPO).as_posix() for p in files}
    expected |= {f"edgefer/{p.relative_to(REPO).as_posix()}"
                 for p in (REPO / "export").rglob("*.py")}
    assert {".onnx", ".param", ".json", ".tflite", ".LICENSE"} <= \
        {Path(n).suffix for n in expected}
    assert expected - names == set()
    yunet = "edgefer/assets/face_detection_yunet_2023mar"
    assert {f"{yunet}.onnx", f"{yunet}.LICENSE"} <= names
    assert any(n.endswith(".dist-info/licenses/edgefer/assets/face_detection_yunet_2023mar"
                          ".LICENSE") for n in names)
    # nothing outside the edgefer package: export/ lands as edgefer/export, never top-level
    dist_info = wheel.name.split("-py")[0] + ".dist-info"
    assert {n.split("/")[0] for n in names} == {"edgefer", dist_info}


def runtime_venv(wheel: Path, root: Path) -> Path:
    """A fresh venv with the wheel and its runtime dependencies only."""
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip_install(venv, str(wheel))
    return venv


def pip_install(venv: Path, requirement: str) -> None:
    """Install into `venv`, pinned, from a local wheelhouse that pip fills once from its cache
    or the index."""
    house = cache_dir() / "wheelhouse"
    pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", "-q"]
    install = [*pip, "install", "--no-index", "--find-links", str(house),
               "-c", str(REPO / "constraints.txt"), requirement]
    if subprocess.run(install, capture_output=True).returncode != 0:
        subprocess.run([*pip, "download", "-d", str(house), "-c", str(REPO / "constraints.txt"),
                        requirement], check=True)
        for stale in house.glob("edgefer-*.whl"):
            stale.unlink()
        subprocess.run(install, check=True)


# Loaded by every Python process of the offline runs: any connection attempt is logged and
# refused (under `unshare --net` there is no network to reach anyway).
NO_NETWORK = """
import socket

def _refuse(*args, **kwargs):
    with open({log!r}, "a") as f:
        f.write(repr(args[1:2]) + "\\n")
    raise OSError("network disabled by the offline test")

socket.socket.connect = socket.socket.connect_ex = _refuse
socket.create_connection = socket.getaddrinfo = _refuse
"""


def offline_prefix() -> list[str]:
    """`unshare --net` where this user may make a network namespace (root, as in CI)."""
    ok = shutil.which("unshare") and subprocess.run(
        ["unshare", "--net", "true"], capture_output=True).returncode == 0
    return ["unshare", "--net"] if ok else []


@pytest.mark.slow
def test_runtime_install_runs_offline_without_torch(wheel, tmp_path, fer_path, yunet,
                                                    trained_run):
    venv = runtime_venv(wheel, tmp_path)
    guard, home = tmp_path / "guard", tmp_path / "home"
    guard.mkdir()
    home.mkdir()
    log = tmp_path / "connections.log"
    (guard / "sitecustomize.py").write_text(NO_NETWORK.format(log=str(log)))
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "EDGEFER_PEERS", "EDGEFER_DETECTOR", "EDGEFER_CACHE",
                        "XDG_CACHE_HOME")}
    env |= {"EDGEFER_DATA": str(fer_path), "COLUMNS": "200", "HOME": str(home),
            "PYTHONPATH": str(guard)}
    prefix = offline_prefix()

    def run(*args: str, code: int = 0) -> subprocess.CompletedProcess:
        proc = subprocess.run([*prefix, *args], cwd=tmp_path, env=env, capture_output=True,
                              text=True)
        assert proc.returncode == code, proc.stdout + proc.stderr
        return proc

    python, edgefer = str(venv / "bin" / "python"), str(venv / "bin" / "edgefer")
    where = run(python, "-c", "import importlib.util as u, edgefer; "
                              "print(u.find_spec('torch') is None, edgefer.__file__)").stdout
    assert where.split()[0] == "True" and where.split()[1].startswith(str(venv))
    photo = yunet.parent / "testdata" / "astronaut.png"
    line = json.loads(run(edgefer, "detect", "--source", str(photo), "--json").stdout)
    assert [f["emotion"] for f in line["faces"]] == ["happy"]
    result = json.loads(run(edgefer, "evaluate", "--limit", "200", "--json").stdout)
    assert result["n"] == 200 and result["model"].endswith("edge.int8.onnx")
    assert result["accuracy"] > 0.5
    result = json.loads(run(edgefer, "evaluate", "edge-s", "--limit", "200", "--json").stdout)
    assert result["model"].endswith("edge-s.int8.onnx") and result["accuracy"] > 0.5
    bench = run(edgefer, "bench", "--quick", "--checkpoint", str(trained_run / "best.pt"))
    assert "torch is not installed: checkpoint" in " ".join(bench.stderr.split())
    assert "int8" in bench.stdout and "Traceback" not in bench.stderr
    api = run(python, "-c", f"from edgefer import Recognizer; "
                            f"print(Recognizer()({str(photo)!r})[0].faces[0].emotion)")
    assert api.stdout.strip() == "happy"
    # the optional backends: a one-line error naming the extra, then they run once installed
    for backend in ("ncnn", "openvino", "litert"):
        proc = run(edgefer, "detect", "--source", str(photo), "--backend", backend, code=2)
        assert f"pip install 'edgefer[{backend}]'" in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1
    pip_install(venv, f"{wheel}[ncnn,openvino,litert]")
    for backend, model in (("ncnn", "edge.ncnn.param"), ("openvino", "edge.int8.onnx"),
                           ("litert", "edge.int8.tflite")):
        result = json.loads(run(edgefer, "evaluate", "--backend", backend, "--limit", "200",
                                "--json").stdout)
        assert result["backend"] == backend and result["model"].endswith(model)
        assert result["accuracy"] > 0.5
    # nothing tried the network (OpenVINO's telemetry is silenced), edgefer wrote no cache;
    # onnxruntime's own import leaves a device-id file under ~/.cache/Microsoft
    assert not log.exists(), log.read_text()
    assert not (home / ".cache" / "edgefer").exists() and not (home / "intel").exists()
