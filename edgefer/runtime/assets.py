"""The trained models that ship inside the package."""

from __future__ import annotations

from pathlib import Path

from edgefer.errors import EdgeferError

ASSETS = Path(__file__).resolve().parent.parent / "assets"
NAME = "edge-s"
# the shipped file each backend runs by default: the int8 model, except where a backend
# cannot run it (OpenCV DNN mis-runs int8 QDQ graphs; ncnn has its own format)
DEFAULT_FILES = {"opencv": f"{NAME}.onnx", "ncnn": f"{NAME}.ncnn.param"}


def shipped_models() -> list[Path]:
    """The shipped files: fp32 ONNX, its ncnn conversion, and the int8 ONNX file (the
    default model, last: `edgefer bench` runs its end-to-end pipeline on the last model)."""
    return [ASSETS / f"{NAME}.onnx", ASSETS / f"{NAME}.ncnn.param", ASSETS / f"{NAME}.int8.onnx"]


def default_model(backend: str = "auto") -> Path:
    """The shipped model `backend` runs by default (the int8 ONNX file for most)."""
    path = ASSETS / DEFAULT_FILES.get(backend, f"{NAME}.int8.onnx")
    if not path.is_file():
        raise EdgeferError(f"no shipped model at {path}: pass --model PATH "
                           "(train one with `edgefer train`, then `edgefer export --int8`)")
    return path
