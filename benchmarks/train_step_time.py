"""Time one training step (forward, backward, SGD update) of each model in three set-ups:
fp32 contiguous, fp32 channels-last, bf16 autocast channels-last.

Random 48x48 inputs; the best of the steps after two warm-up ones, in ms. Shows whether this
CPU computes bf16 natively (`edgefer train --amp` uses it only then). Needs torch (the train
extra).
"""

from __future__ import annotations

import time

import torch
import torch.nn.functional as F

from edgefer.bench import harness
from edgefer.models import create_model, list_models
from edgefer.train.precision import cpu_trains_faster_in_bf16

SETUPS = {"fp32 contiguous": (False, False), "fp32 channels-last": (True, False),
          "bf16 channels-last": (True, True)}  # channels-last, bf16


def step_ms(name: str, channels_last: bool, bf16: bool, batch: int, steps: int) -> float:
    """The fastest of `steps` training steps after the first two, in ms."""
    torch.manual_seed(0)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model = create_model(name).to(memory_format=fmt)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(batch, 1, 48, 48).contiguous(memory_format=fmt)
    y = torch.randint(0, 7, (batch,))
    times = []
    for _ in range(steps + 2):
        start = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            out = model(x)
        loss = F.cross_entropy(out.float(), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        times.append((time.perf_counter() - start) * 1000)
    return min(times[2:])


def main(argv: list[str] | None = None) -> None:
    ap = harness.parser(__doc__, __file__, "out")
    ap.add_argument("models", nargs="*", default=["edge-s", "edge", "edge-l"],
                    choices=list_models())
    ap.add_argument("--batch", type=harness.positive, default=128)
    ap.add_argument("--steps", type=harness.positive, default=4,
                    help="timed steps after two warm-up ones")
    args = ap.parse(argv)
    report = harness.Report.start(args.command, torch=True)
    report.add(f"`edgefer train --amp` uses bf16 here: {cpu_trains_faster_in_bf16()}; "
               f"{torch.get_num_threads()} torch threads; batch {args.batch}; ms per step, "
               f"the best of {args.steps}.")
    table = report.add(harness.Table({"model": "", **{s: ".0f" for s in SETUPS}}))
    for name in args.models:
        print(table.add(name, *(step_ms(name, cl, bf, args.batch, args.steps)
                                for cl, bf in SETUPS.values())), flush=True)
    harness.publish(report, args.out)


if __name__ == "__main__":
    harness.run(main)
