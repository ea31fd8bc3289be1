"""Mixed precision: which autocast dtype a device computes natively, if any."""

from __future__ import annotations

from pathlib import Path

import torch

# /proc/cpuinfo flags of CPUs with bf16 matrix instructions: x86 AMX, Arm BF16 (BFMMLA).
# AVX512-BF16 alone (vector dot products) is not enough: on a Xeon with it but no AMX, an edge
# training step took 379 ms in bf16 against 299 ms in fp32 (benchmarks/train_step_time.py).
_BF16_FLAGS = {"amx_bf16", "bf16"}


def cpu_has_bf16_matmul(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """True when the CPU multiplies bf16 matrices in hardware, where bf16 trains faster."""
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
    CPU has bf16 matrix units; batch norm and the loss stay fp32 under autocast either way.
    """
    if not amp:
        return None, None
    if device.type == "cuda":
        return (torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16), None
    if device.type == "cpu" and cpu_has_bf16_matmul():
        return torch.bfloat16, None
    return None, (f"--amp: no bf16 matrix units on this {device.type} (AMX or Arm BF16), where "
                  "bf16 would be slower; training in fp32")
