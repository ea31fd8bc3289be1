"""What machine a figure was measured on: CPU, cores and library versions."""

from __future__ import annotations

import os
import platform
from importlib import metadata
from pathlib import Path


def machine_info() -> dict:
    """CPU model, core count, OS/arch and the versions of the libraries that set speed."""
    import cv2
    import numpy as np
    import onnxruntime as ort

    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    try:
        torch = metadata.version("torch")  # read without importing torch
    except metadata.PackageNotFoundError:
        torch = None
    return {"cpu": cpu, "cores": os.cpu_count(), "system": f"{platform.system()} "
            f"{platform.machine()}", "python": platform.python_version(),
            "numpy": np.__version__, "onnxruntime": ort.__version__, "opencv": cv2.__version__,
            "torch": torch}
