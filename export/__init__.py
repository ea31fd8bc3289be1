"""Export: a trained checkpoint -> fp32 ONNX and static int8 QDQ ONNX calibrated on FER2013.

Installed as `edgefer.export` (the top-level `export/` folder is mapped into the package).
`export_model` needs the train extra (torch, onnx); `ExportOptions` does not, and loads
without it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {"ExportOptions": "edgefer.export.options", "export_model": "edgefer.export.pipeline"}
__all__ = ["ExportOptions", "export_model"]

if TYPE_CHECKING:
    from edgefer.export.options import ExportOptions
    from edgefer.export.pipeline import export_model


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'edgefer.export' has no attribute {name!r}")
