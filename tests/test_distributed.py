"""torchrun + DistributedDataParallel on this CPU (gloo): 2 processes vs 1, same global batch."""

from __future__ import annotations

import csv
import os
import subprocess
import sys

import pytest
from helpers import run_cli

from edgefer.train.checkpoint import load_checkpoint

ARGS = ["--model", "edge-s", "--limit", "2000", "--batch-size", "32", "--augment", "none",
        "--warmup-epochs", "0", "--lr", "1e-3"]


def val_accs(run):
    with (run / "metrics.csv").open() as f:
        return [float(r["val_acc"]) for r in csv.DictReader(f)]


def torchrun(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc-per-node",
                           "2", "-m", "edgefer", "train", *args], capture_output=True,
                          text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


@pytest.fixture(scope="module")
def one_process(fer_path, tmp_path_factory):
    out = tmp_path_factory.mktemp("ddp") / "one"
    run_cli("train", "--data", str(fer_path), "--epochs", "2", *ARGS, "--out", str(out))
    return out


@pytest.mark.slow
def test_two_gloo_processes_match_one_and_write_once(fer_path, one_process, tmp_path):
    out = tmp_path / "two"
    proc = torchrun("--data", str(fer_path), "--epochs", "2", *ARGS, "--out", str(out))
    two, one = val_accs(out), val_accs(one_process)
    assert len(two) == 2
    # same global batch, different shuffles: equal within run-to-run noise
    assert abs(two[-1] - one[-1]) < 0.04, (two, one)
    assert two[-1] > 895 / 3589  # and learning: above the majority class share
    # only rank 0 logs and writes: every epoch line once, the summary once
    log = proc.stdout + proc.stderr
    assert log.count("epoch 1/2 ") == 1 and log.count("epoch 2/2 ") == 1
    assert log.count("best val acc") == 1
    last = load_checkpoint(out, name="last.pt")
    assert len(last["rng"]["ranks"]) == 2  # both processes' augmentation streams kept

    torchrun("--resume", str(out), "--epochs", "3")
    assert len(val_accs(out)) == 3
    assert val_accs(out)[:2] == two


def test_global_batch_must_divide(fer_path, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc-per-node",
                           "2", "-m", "edgefer", "train", "--data", str(fer_path), *ARGS[:4],
                           "--batch-size", "33", "--out", str(tmp_path / "r")],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode != 0
    assert "--batch-size 33 (the global batch) must divide evenly over 2 processes" in \
        proc.stdout + proc.stderr
