"""Time one full FER2013 training epoch of every registered model on this machine.

Usage: python benchmarks/train_epoch_time.py [--data PATH] [--epochs N] [--out DIR]
Prints a markdown table (epoch seconds, train and val accuracy per epoch) with the machine.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import subprocess
import sys
from pathlib import Path

import torch

from edgefer.models import list_models


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=os.environ.get("EDGEFER_DATA"))
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--out", type=Path, default=Path("runs/epoch-time"))
    ap.add_argument("--models", nargs="*", default=list(list_models()))
    args = ap.parse_args()
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text()
                .splitlines() if ln.startswith("model name")), platform.processor())
    print(f"machine: {cpu}, {os.cpu_count()} cores, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads\n")
    print("| model | epoch | seconds | train acc | val acc |\n|---|---:|---:|---:|---:|")
    for name in args.models:
        run = args.out / name
        if not (run / "metrics.csv").exists():
            subprocess.run([sys.executable, "-m", "edgefer", "train", "--data", args.data,
                            "--model", name, "--epochs", str(args.epochs), "--out", str(run)],
                           check=True, stderr=subprocess.DEVNULL)
        with (run / "metrics.csv").open() as f:
            for r in csv.DictReader(f):
                print(f"| {name} | {r['epoch']} | {float(r['seconds']):.0f} | "
                      f"{float(r['train_acc']):.3f} | {float(r['val_acc']):.3f} |", flush=True)


if __name__ == "__main__":
    main()
