"""The export report: fp32 vs int8 accuracy, agreement, size and latency, as typed records
written to and read from export_report.json, and printed as a table."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from edgefer.latency import Latency
from edgefer.machine import machine_info


@dataclass
class ModelFigures:
    """One exported file: size, accuracy and single-face latency (1 thread, batch 1)."""

    bytes: int
    val_acc: float
    test_acc: float | None  # None: exported --val-only, the test split left unread
    test_unseen_acc: float | None
    latency_ms_1thread_b1: Latency
    file: str | None = None  # None when the file was measured but not kept (int8 gate)

    @classmethod
    def from_dict(cls, d: dict) -> ModelFigures:  # also builds the subclass FormatFigures
        return cls(**{**d, "latency_ms_1thread_b1": Latency(**d["latency_ms_1thread_b1"])})


@dataclass
class FormatFigures(ModelFigures):
    """An ONNX file converted to another runtime's format, measured on that runtime."""

    format: str = ""
    source: str = ""  # the ONNX file it was converted from
    agreement: dict[str, float] = field(default_factory=dict)  # top-1, with that file on ort


@dataclass
class Comparison:
    """int8 against fp32 on the same faces."""

    val_drop_points: float
    test_drop_points: float | None
    agreement: dict[str, float]  # top-1 agreement per split
    max_prob_diff: float
    size_ratio: float
    speedup_1thread_b1: float
    max_drop_points: float

    @classmethod
    def between(cls, f: ModelFigures, q: ModelFigures, probs: dict, max_drop: float
                ) -> Comparison:
        splits = tuple(probs["fp32"])
        return cls(
            val_drop_points=int8_drop(f, q, "val"),
            test_drop_points=int8_drop(f, q, "test") if "test" in splits else None,
            agreement={s: float((probs["fp32"][s].argmax(1) == probs["int8"][s].argmax(1))
                                .mean()) for s in splits},
            max_prob_diff=float(max(np.abs(probs["fp32"][s] - probs["int8"][s]).max()
                                    for s in splits)),
            size_ratio=q.bytes / f.bytes,
            speedup_1thread_b1=f.latency_ms_1thread_b1.p50 / q.latency_ms_1thread_b1.p50,
            max_drop_points=max_drop)


@dataclass
class ExportReport:
    """What `edgefer export` measured, and whether int8 passed its accuracy gate."""

    checkpoint: str
    out: str
    data: str
    machine: dict
    fp32: ModelFigures
    int8: ModelFigures | None
    comparison: Comparison | None
    passed: bool
    torch_max_abs_diff: float | None = None  # None when exported from an ONNX model
    formats: dict[str, FormatFigures] = field(default_factory=dict)  # "openvino int8": ...

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_dict(cls, d: dict) -> ExportReport:
        return cls(**{**d, "fp32": ModelFigures.from_dict(d["fp32"]),
                      "int8": ModelFigures.from_dict(d["int8"]) if d.get("int8") else None,
                      "comparison": Comparison(**d["comparison"]) if d.get("comparison")
                      else None,
                      "formats": {k: FormatFigures.from_dict(v)
                                  for k, v in d.get("formats", {}).items()}})


def int8_drop(fp32: ModelFigures, int8: ModelFigures, split: str) -> float:
    """Accuracy points int8 loses against fp32 on a split."""
    return 100 * (getattr(fp32, f"{split}_acc") - getattr(int8, f"{split}_acc"))


def build_report(src: Path, out: Path, data: Path, results: dict[str, ModelFigures],
                 probs: dict, max_drop: float, passed: bool, torch_diff: float | None,
                 formats: dict[str, FormatFigures]) -> ExportReport:
    """The export report: each model's figures, the machine, and the int8 vs fp32 comparison."""
    int8 = results.get("int8")
    comparison = Comparison.between(results["fp32"], int8, probs, max_drop) if int8 else None
    return ExportReport(str(src), str(out), str(data), machine_info(), results["fp32"], int8,
                        comparison, passed, torch_diff, formats)


def print_report(report: ExportReport) -> None:
    """The report as a table and two summary lines on stdout."""
    table = Table(title=f"export of {report.checkpoint} ({report.machine['cpu']})")
    for col in ("model", "MB", "val acc", "test acc", "test acc (unseen)", "p50 ms (1 thr, b1)",
                "agrees with ONNX (test)"):
        table.add_column(col, justify="left" if col == "model" else "right")
    rows = [(f"onnx {name}", r) for name, r in (("fp32", report.fp32), ("int8", report.int8))
            if r is not None]
    for name, r in [*rows, *report.formats.items()]:
        agrees = r.agreement.get("test") if isinstance(r, FormatFigures) else None
        table.add_row(name, f"{r.bytes / 1e6:.3f}", f"{r.val_acc:.4f}", figure(r.test_acc),
                      figure(r.test_unseen_acc), f"{r.latency_ms_1thread_b1.p50:.3f}",
                      figure(agrees, ""))
    Console().print(table)
    if (c := report.comparison) is not None:
        agreement = " / ".join(f"{s} {a:.4f}" for s, a in c.agreement.items())
        print(f"int8 vs fp32: val drop {c.val_drop_points:.2f} points, top-1 agreement "
              f"{agreement}, max prob diff {c.max_prob_diff:.4f}, size {c.size_ratio:.1%}, "
              f"speed-up {c.speedup_1thread_b1:.2f}x")
    if report.torch_max_abs_diff is not None:
        print(f"PyTorch vs ONNX fp32 max |diff| {report.torch_max_abs_diff:.2e}")
    print(f"files in {report.out}")


def figure(value: float | None, missing: str = "not read") -> str:
    """A table cell: the accuracy, or `missing` where a --val-only export left test unread."""
    return missing if value is None else f"{value:.4f}"
