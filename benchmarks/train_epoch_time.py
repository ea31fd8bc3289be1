"""Time one full FER2013 training epoch of every registered model on this machine.

Each model is trained by `edgefer train` into RUNS/MODEL (a run already there is read, not
trained again); the table gives seconds, train and val accuracy per epoch. --limit trains on
a stratified subset (a quick check, not the benchmark). Needs torch (the train extra).
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import torch

from edgefer.bench import harness
from edgefer.errors import EdgeferError, first_line
from edgefer.models import list_models


def train(name: str, data: Path, epochs: int, limit: int | None, run: Path) -> None:
    """`edgefer train` of one model into `run`; its error as an EdgeferError."""
    cmd = [sys.executable, "-m", "edgefer", "train", "--data", str(data), "--model", name,
           "--epochs", str(epochs), "--out", str(run)] + (["--limit", str(limit)] if limit else [])
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines() or [f"exit code {proc.returncode}"]
        raise EdgeferError(f"edgefer train --model {name} failed: {first_line(lines[-1])}")


def main(argv: list[str] | None = None) -> None:
    ap = harness.parser(__doc__, __file__, "data", "out")
    ap.add_argument("--epochs", type=harness.positive, default=1)
    ap.add_argument("--models", nargs="+", default=list(list_models()), choices=list_models())
    ap.add_argument("--limit", type=harness.positive, default=None,
                    help="train on this many faces (a quick check)")
    ap.add_argument("--runs", type=Path, default=Path("runs/epoch-time"),
                    help="where the training runs go (one folder per model)")
    args = ap.parse(argv)
    report = harness.Report.start(args.command, torch=True)
    report.add(f"`edgefer train` at its defaults, {torch.get_num_threads()} torch threads"
               + (f", {args.limit} training faces" if args.limit else "") + ".")
    table = report.add(harness.Table({"model": "", "epoch": "d", "seconds": ".0f",
                                      "train acc": ".3f", "val acc": ".3f"}))
    for name in args.models:
        run = args.runs / name
        if not (run / "metrics.csv").exists():
            train(name, args.data, args.epochs, args.limit, run)
        with (run / "metrics.csv").open() as f:
            for r in csv.DictReader(f):
                print(table.add(name, int(r["epoch"]), float(r["seconds"]),
                                float(r["train_acc"]), float(r["val_acc"])), flush=True)
    harness.publish(report, args.out)


if __name__ == "__main__":
    harness.run(main)
