"""`edgefer report`: one self-contained HTML page about a training run (images embedded)."""

from __future__ import annotations

import base64
import csv
import html
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgefer.atomic import atomic_write_text
from edgefer.data import load_faces
from edgefer.errors import EdgeferError
from edgefer.export.report import ExportReport, figure
from edgefer.machine import machine_info
from edgefer.metrics import classification_metrics
from edgefer.plots import plot_confusion, plot_curves
from edgefer.visualize.features import checkpoint_inspector
from edgefer.visualize.figures import (
    plot_layer_means,
    plot_mistakes,
    plot_per_class,
)

SPLIT_NAMES = {"train": "Training", "val": "PublicTest (val)", "test": "PrivateTest (test)"}
STYLE = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;
color:#222}h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #ddd}img{max-width:100%;
display:block;margin:.5em 0}table{border-collapse:collapse;font-size:.9em}td,th{border:1px solid
#ccc;padding:.3em .6em;text-align:right}th{background:#f4f4f4}td:first-child{text-align:left}
.note{color:#666;font-size:.9em}"""


@dataclass(frozen=True)
class ReportSummary:
    """What `build_report` wrote, for the caller to print."""

    out: Path
    sections: list[str]
    images: int
    accuracy: float
    split: str


def build_report(run: Path, out: Path, data: Path, split: str = "val") -> ReportSummary:
    """Write the HTML report of `run` (a training run directory) to `out`."""
    if not (run / "best.pt").is_file() or not (run / "metrics.csv").is_file():
        raise EdgeferError(f"{run}: not a training run directory (needs best.pt and "
                           "metrics.csv from `edgefer train`)")
    with (run / "metrics.csv").open() as f:
        history = [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]
    from edgefer.train.predictor import CheckpointClassifier

    clf = CheckpointClassifier(run)
    predict, labels = clf.predict_probs, clf.labels
    part = load_faces(data).split(split)
    if len(part) == 0:
        raise EdgeferError(f"{data}: the '{split}' split is empty")
    probs = predict(part.images)
    metrics = classification_metrics(part.labels, probs.argmax(1), labels)
    where = SPLIT_NAMES[split]
    sections: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        fig = Path(tmp)
        plot_curves(history, fig / "curves.png")
        sections.append(("Training curves", _img(fig / "curves.png", "training curves")
                         + _history_note(history)))
        plot_confusion(metrics["confusion"], labels, fig / "confusion.png",
                       f"{where}: accuracy {metrics['accuracy']:.3f}")
        sections.append((f"Confusion matrix on {where}", _img(fig / "confusion.png",
                                                             "confusion matrix")))
        pc = metrics["per_class"]
        plot_per_class({k: v["recall"] for k, v in pc.items()},
                       {k: v["support"] for k, v in pc.items()}, fig / "per_class.png",
                       f"Per-class accuracy on {where}")
        sections.append(("Per-class accuracy", _img(fig / "per_class.png", "per-class accuracy")
                         + _metrics_table(metrics)))
        plot_mistakes(part.images, part.labels, probs, labels, fig / "mistakes.png")
        sections.append(("Most confident mistakes", _img(fig / "mistakes.png", "mistakes")))
        rows, inspect = [], checkpoint_inspector(run)
        for c, name in enumerate(labels):
            idx = np.flatnonzero(part.labels == c)
            if len(idx):
                face = part.images[idx[0]]
                rows.append((name, face, inspect(face).layers))
        plot_layer_means(rows, fig / "features.png")
        sections.append(("Feature maps", _img(fig / "features.png", "feature maps")
                         + '<p class="note">The first face of each emotion in the split; '
                           "every channel of a layer: <code>edgefer visualize feature-maps"
                           "</code>.</p>"))
        export = run / "export" / "export_report.json"
        if export.is_file():
            report = ExportReport.from_dict(json.loads(export.read_text()))
            sections.append(("Export", _export_table(report)))
        body = "\n".join(f"<h2>{html.escape(t)}</h2>\n{content}" for t, content in sections)
    config = json.loads((run / "config.json").read_text()) if (run / "config.json").is_file() \
        else {}
    page = (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>edgefer report: "
            f"{html.escape(run.name)}</title><style>{STYLE}</style></head><body>"
            f"<h1>edgefer report: {html.escape(str(run))}</h1>"
            f"<p>{html.escape(config.get('model', ''))}, {len(history)} epochs; accuracy "
            f"<b>{metrics['accuracy']:.4f}</b> on {where} ({metrics['n']:,} faces). Machine: "
            f"{html.escape(machine_info()['cpu'])}.</p>\n{body}</body></html>\n")
    atomic_write_text(out, page)
    return ReportSummary(out, [t for t, _ in sections], page.count("<img "), metrics["accuracy"],
                         split)


def _img(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _history_note(history: list[dict]) -> str:
    best = max(history, key=lambda h: h["val_acc"])
    return (f'<p class="note">Best val accuracy {best["val_acc"]:.4f} at epoch '
            f'{int(best["epoch"])} of {len(history)}.</p>')


def _metrics_table(m: dict) -> str:
    rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{v['precision']:.3f}</td>"
                   f"<td>{v['recall']:.3f}</td><td>{v['f1']:.3f}</td><td>{v['support']}</td></tr>"
                   for k, v in m["per_class"].items())
    return ("<table><tr><th>class</th><th>precision</th><th>recall</th><th>F1</th>"
            f"<th>faces</th></tr>{rows}</table>")


def _export_table(r: ExportReport) -> str:
    rows = ""
    for name, m in (("fp32", r.fp32), ("int8", r.int8)):
        if m is not None and m.file:
            rows += (f"<tr><td>{name}</td><td>{m.bytes:,}</td><td>{m.val_acc:.4f}</td>"
                     f"<td>{figure(m.test_acc)}</td><td>{figure(m.test_unseen_acc)}</td>"
                     f"<td>{m.latency_ms_1thread_b1.p50:.3f}</td></tr>")
    return ("<table><tr><th>model</th><th>bytes</th><th>val acc</th><th>test acc</th>"
            "<th>test acc, unseen</th><th>ms, 1 thread, p50</th></tr>"
            f"{rows}</table><p class=note>From {html.escape(r.out)}/"
            "export_report.json.</p>")
