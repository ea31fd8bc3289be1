"""The trained models that ship inside the package."""

from __future__ import annotations

from pathlib import Path

from edgefer.errors import EdgeferError

ASSETS = Path(__file__).resolve().parent.parent / "assets"
DEFAULT_MODEL = "edge-s.int8.onnx"


def shipped_models() -> list[Path]:
    """The shipped fp32 and int8 files, in that order."""
    return [ASSETS / DEFAULT_MODEL.replace(".int8", ""), default_model()]


def default_model() -> Path:
    """The shipped int8 model, the default of detect, evaluate and bench."""
    path = ASSETS / DEFAULT_MODEL
    if not path.is_file():
        raise EdgeferError(f"no shipped model at {path}: pass --model PATH "
                           "(train one with `edgefer train`, then `edgefer export --int8`)")
    return path
