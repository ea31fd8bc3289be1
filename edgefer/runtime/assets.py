"""The files that ship inside the package: the trained models by name, `edge` (the default,
the more accurate) and `edge-s` (about half its latency), and the YuNet face detector (MIT,
its licence beside it), so that nothing is fetched at run time."""

from __future__ import annotations

from pathlib import Path

from edgefer.errors import BadArgumentError, MissingFileError
from edgefer.runtime.formats import FORMATS, INT8_ENDING, int8_ending

ASSETS = Path(__file__).resolve().parent.parent / "assets"
SHIPPED = ("edge", "edge-s")  # the default first
DEFAULT = SHIPPED[0]
YUNET = ASSETS / "face_detection_yunet_2023mar.onnx"


def shipped_file(name: str = DEFAULT, backend: str = "auto") -> Path:
    """The file of shipped model `name` that `backend` runs (the int8 ONNX file for most)."""
    if name not in SHIPPED:
        raise BadArgumentError(f"no shipped model {name!r}: choose one of {', '.join(SHIPPED)}")
    path = ASSETS / f"{name}{shipped_ending(backend)}"
    if not path.is_file():
        raise MissingFileError(f"no shipped model at {path}: give a model path "
                           "(train one with `edgefer train`, then `edgefer export --int8`)")
    return path


def shipped_ending(backend: str) -> str:
    """Which of a shipped model's files `backend` runs: the int8 ONNX file where the backend
    runs int8 ONNX, else the fp32 one (OpenCV DNN), else its own format's, int8 where it
    runs int8 (LiteRT), else as it is stored (ncnn, fp16)."""
    onnx = FORMATS["onnx"]
    if backend == "auto" or backend in onnx.int8_backends:
        return INT8_ENDING
    fmt = next((f for f in FORMATS.values() if backend in f.backends), onnx)
    return int8_ending(fmt) if backend in fmt.int8_backends else fmt.ending


def resolve_model(model: str | Path | None = None, backend: str = "auto") -> Path:
    """A model given as a path, as a shipped model's name ('edge', 'edge-s'), or as None (the
    default shipped model): the file to run. A file or folder that exists wins over a name."""
    if model is None:
        return shipped_file(DEFAULT, backend)
    path = Path(model)
    if path.exists():
        return path
    if str(model) in SHIPPED:
        return shipped_file(str(model), backend)
    if len(path.parts) == 1 and not path.suffix:
        raise MissingFileError(f"{model}: no such file, and no shipped model of that name "
                           f"(shipped: {', '.join(SHIPPED)})")
    return path


def shipped_models() -> list[Path]:
    """Every shipped model file: each model's fp32 ONNX, ncnn, int8 LiteRT and int8 ONNX
    file, the default model's last (`edgefer bench` runs its end-to-end pipeline on the last
    model)."""
    endings = (FORMATS["onnx"].ending, FORMATS["ncnn"].ending, int8_ending(FORMATS["tflite"]),
               INT8_ENDING)
    return [ASSETS / f"{name}{ending}" for name in reversed(SHIPPED) for ending in endings]
