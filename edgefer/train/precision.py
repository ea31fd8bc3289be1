"""Mixed precision: which autocast dtype a device computes natively, if any."""

from __future__ import annotations

from pathlib import Path

import torch

# /proc/cpuinfo flags of CPUs with bf16 arithmetic in hardware: x86 AMX and AVX512-BF16, Arm BF16
_BF16_FLAGS = {"amx_bf16", "avx512_bf16", "bf16"}


def cpu_has_native_bf16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """True when the CPU advertises bf16 instructions (elsewhere bf16 is emulated, ~10x slower)."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return False
    for line in text.splitlines():
        if line.startswith(("flags", "Features")):
            return bool(_BF16_FLAGS & set(line.split(":", 1)[1].split()))
    return False


def autocast_dtype(amp: bool, device: torch.device) -> tuple[torch.dtype | None, str | None]:
    """The autocast dtype for `--amp` on `device` (None: fp32) and a note when amp falls back.

    CUDA: bf16 where supported, else fp16 (with a gradient scaler). CPU: bf16 only where the
    CPU computes it natively; batch norm and the loss stay fp32 under autocast either way.
    """
    if not amp:
        return None, None
    if device.type == "cuda":
        return (torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16), None
    if device.type == "cpu" and cpu_has_native_bf16():
        return torch.bfloat16, None
    return None, (f"--amp: no native bf16 on this {device.type} (AMX, AVX512-BF16 or Arm BF16); "
                  "training in fp32")
