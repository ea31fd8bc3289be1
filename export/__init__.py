"""Export: a trained checkpoint -> fp32 ONNX and static int8 QDQ ONNX calibrated on FER2013.

Installed as `edgefer.export` (the top-level `export/` folder is mapped into the package).
"""

from edgefer.export.pipeline import ExportOptions, export_model

__all__ = ["ExportOptions", "export_model"]
