"""The export report: fp32 vs int8 accuracy, agreement, size and latency, as JSON and a table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from edgefer.machine import machine_info


def int8_drop(fp32: dict, int8: dict, split: str) -> float:
    """Accuracy points int8 loses against fp32 on a split."""
    return 100 * (fp32[f"{split}_acc"] - int8[f"{split}_acc"])


def build_report(src: Path, out: Path, data: Path, results: dict, probs: dict,
                 max_drop: float) -> dict:
    """The export report: each model's figures, the machine, and the int8 vs fp32 comparison."""
    report = {"checkpoint": str(src), "out": str(out), "data": str(data),
              "machine": machine_info(), **results}
    if "int8" in results:
        f, q = results["fp32"], results["int8"]
        report["comparison"] = {
            "val_drop_points": int8_drop(f, q, "val"),
            "test_drop_points": int8_drop(f, q, "test"),
            "agreement": {s: float((probs["fp32"][s].argmax(1) == probs["int8"][s].argmax(1))
                                   .mean()) for s in ("val", "test")},
            "max_prob_diff": float(max(np.abs(probs["fp32"][s] - probs["int8"][s]).max()
                                       for s in ("val", "test"))),
            "size_ratio": q["bytes"] / f["bytes"],
            "speedup_1thread_b1": f["latency_ms_1thread_b1"]["p50"]
            / q["latency_ms_1thread_b1"]["p50"],
            "max_drop_points": max_drop,
        }
    return report


def print_report(report: dict) -> None:
    """The report as a table and two summary lines on stdout."""
    table = Table(title=f"export of {report['checkpoint']} ({report['machine']['cpu']})")
    for col in ("model", "MB", "val acc", "test acc", "test acc (unseen)", "p50 ms (1 thr, b1)"):
        table.add_column(col, justify="left" if col == "model" else "right")
    for name in ("fp32", "int8"):
        if name in report:
            r = report[name]
            table.add_row(name, f"{r['bytes'] / 1e6:.3f}", f"{r['val_acc']:.4f}",
                          f"{r['test_acc']:.4f}", f"{r['test_unseen_acc']:.4f}",
                          f"{r['latency_ms_1thread_b1']['p50']:.3f}")
    Console().print(table)
    if "comparison" in report:
        c = report["comparison"]
        print(f"int8 vs fp32: val drop {c['val_drop_points']:.2f} points, top-1 agreement "
              f"val {c['agreement']['val']:.4f} / test {c['agreement']['test']:.4f}, max prob "
              f"diff {c['max_prob_diff']:.4f}, size {c['size_ratio']:.1%}, "
              f"speed-up {c['speedup_1thread_b1']:.2f}x")
    print(f"PyTorch vs ONNX fp32 max |diff| {report['torch_max_abs_diff']:.2e}; "
          f"files in {report['out']}")
