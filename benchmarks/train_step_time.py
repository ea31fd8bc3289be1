"""Time one training step (forward, backward, SGD update) of each model in three set-ups:
fp32 contiguous, fp32 channels-last, bf16 autocast channels-last.

Usage: python benchmarks/train_step_time.py [MODEL ...] [--batch 128] [--steps 6]
Random 48x48 inputs; the best of the steps after two warm-up ones, in ms. Shows whether this
CPU computes bf16 natively (`edgefer train --amp` uses it only then).
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F

from edgefer.machine import machine_info
from edgefer.models import create_model
from edgefer.train.precision import cpu_has_bf16_matmul


def step_ms(name: str, channels_last: bool, bf16: bool, batch: int, steps: int) -> float:
    torch.manual_seed(0)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model = create_model(name).to(memory_format=fmt)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(batch, 1, 48, 48).contiguous(memory_format=fmt)
    y = torch.randint(0, 7, (batch,))
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            out = model(x)
        loss = F.cross_entropy(out.float(), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        times.append((time.perf_counter() - start) * 1000)
    return min(times[2:])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="*", default=["edge-s", "edge", "edge-l"])
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--steps", type=int, default=6)
    args = ap.parse_args()
    info = machine_info()
    print(f"{info['cpu']}, {info['cores']} cores, torch {info['torch']}, "
          f"bf16 matrix units: {cpu_has_bf16_matmul()}; batch {args.batch}, ms per step\n")
    print("| model | fp32 contiguous | fp32 channels-last | bf16 channels-last |")
    print("|---|---:|---:|---:|")
    for name in args.models:
        cells = [step_ms(name, cl, bf, args.batch, args.steps)
                 for cl, bf in ((False, False), (True, False), (True, True))]
        print(f"| {name} | " + " | ".join(f"{c:.0f}" for c in cells) + " |", flush=True)


if __name__ == "__main__":
    main()
