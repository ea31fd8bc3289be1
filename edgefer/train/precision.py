"""Mixed precision: which autocast dtype a device computes natively, if any."""

from __future__ import annotations

from pathlib import Path

import torch

# /proc/cpuinfo flags of CPUs with bf16 matrix instructions: x86 AMX, Arm BF16 (BFMMLA).
_BF16_FLAGS = {"amx_bf16", "bf16"}
# AVX512-BF16 alone (vector dot products) pays on AMD (Zen 4: an edge training step, batch 128,
# 135 ms in bf16 against 241 ms in fp32) but not on Intel (a Xeon without AMX: 379 against
# 299 ms); benchmarks/train_step_time.py on each.
_AMD_BF16_FLAG = "avx512_bf16"


def cpu_trains_faster_in_bf16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """True when the CPU computes bf16 convolutions faster than fp32 ones (see above)."""
    try:
        lines = cpuinfo.read_text().splitlines()
    except OSError:
        return False
    fields: dict[str, list[str]] = {}
    for line in lines:
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.split())
    flags = set(fields.get("flags", fields.get("Features", [])))
    amd = fields.get("vendor_id") == ["AuthenticAMD"]
    return bool(_BF16_FLAGS & flags) or (amd and _AMD_BF16_FLAG in flags)


def autocast_dtype(amp: bool, device: torch.device) -> tuple[torch.dtype | None, str | None]:
    """The autocast dtype for `--amp` on `device` (None: fp32) and a note when amp falls back.

    CUDA: bf16 where supported, else fp16 (with a gradient scaler). CPU: bf16 only where it
    trains faster than fp32; batch norm and the loss stay fp32 under autocast either way.
    """
    if not amp:
        return None, None
    if device.type == "cuda":
        return (torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16), None
    if device.type == "cpu" and cpu_trains_faster_in_bf16():
        return torch.bfloat16, None
    return None, (f"--amp: this {device.type} computes bf16 no faster than fp32 (no AMX, Arm "
                  "BF16 or AMD AVX512-BF16); training in fp32")
