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


def machine_line(info: dict | None = None, *, date: str | None = None,
                 torch: bool = False) -> str:
    """One line naming the machine (CPU model, cores, ISA), the libraries that set speed
    (torch too with `torch`, where installed) and the date (default: today, ISO)."""
    import datetime

    m = info or machine_info()
    libraries = [f"onnxruntime {m['onnxruntime']}", f"OpenCV {m['opencv']}",
                 f"numpy {m['numpy']}"] + ([f"torch {m['torch']}"] if torch and m["torch"] else [])
    return (f"{m['cpu']}, {m['cores']} cores ({m['isa']}), {', '.join(libraries)}, "
            f"{date or datetime.date.today().isoformat()}")
