"""What machine a figure was measured on: CPU, cores and library versions."""

from __future__ import annotations

import os
import platform
from importlib import metadata
from pathlib import Path

# the instruction sets that decide int8 and fp32 speed, as /proc/cpuinfo names them
ISA = (("avx2", "AVX2"), ("avx512f", "AVX512"), ("avx512_vnni", "AVX512-VNNI"),
       ("avx_vnni", "AVX-VNNI"), ("amx_tile", "AMX"), ("asimd", "NEON"), ("asimddp", "DotProd"),
       ("bf16", "BF16"))


def machine_info() -> dict:
    """CPU model, core count, OS/arch and the versions of the libraries that set speed."""
    import cv2
    import numpy as np
    import onnxruntime as ort

    cpu = platform.processor() or platform.machine()
    model, flags = "", set()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name") and not model:
                model = line.split(":", 1)[1].strip()
            elif line.startswith(("flags", "Features")) and not flags:
                flags = set(line.split(":", 1)[1].split())
    cpu = model or cpu
    try:
        torch = metadata.version("torch")  # read without importing torch
    except metadata.PackageNotFoundError:
        torch = None
    return {"cpu": cpu, "cores": os.cpu_count(),
            "isa": ", ".join(name for flag, name in ISA if flag in flags) or "-",
            "system": f"{platform.system()} "
            f"{platform.machine()}", "python": platform.python_version(),
            "numpy": np.__version__, "onnxruntime": ort.__version__, "opencv": cv2.__version__,
            "torch": torch}


def machine_line(info: dict | None = None) -> str:
    """One line naming the machine, the libraries that set speed, and today's date."""
    import datetime

    m = info or machine_info()
    return (f"{m['cpu']}, {m['cores']} cores ({m['isa']}), onnxruntime {m['onnxruntime']}, "
            f"OpenCV {m['opencv']}, numpy {m['numpy']}, {datetime.date.today().isoformat()}")
