"""Render the figure tables of README.md and docs/model-card.md from the files that the
repository's commands write, so that no figure in them is typed by hand:

- README.md, block `shipped-models`: benchmarks/results.json, written by
  `edgefer bench --json` (its `machine` entry names the CPU and the libraries);
- docs/model-card.md, block `export-metrics`: the accuracy each shipped ONNX and LiteRT file
  carries in its `edgefer` metadata, measured by `edgefer export` when it wrote the file;
- docs/model-card.md, block `per-class`: docs/edge-int8-test.json, written by
  `edgefer evaluate edgefer/assets/edge.int8.onnx --split test --json`.

    python docs/tables.py           rewrite the blocks in place
    python docs/tables.py --check   name the stale blocks and exit 1, writing nothing

A block is the text between `<!-- tables:NAME -->` and `<!-- /tables:NAME -->`;
tests/test_docs.py fails while one is stale.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path

from edgefer.atomic import atomic_write_text
from edgefer.machine import machine_line
from edgefer.runtime.assets import ASSETS, SHIPPED

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results.json"
EVALUATION = REPO / "docs" / "edge-int8-test.json"


def pct(x: float) -> str:
    return f"{100 * x:.2f}%"


def latency(row: dict, threads: int) -> dict | None:
    return next((e for e in row["latency"] if e["threads"] == threads and e["batch"] == 1),
                None)


def shipped_models() -> str:
    """README.md: each shipped file on the runtime it is made for, then the peer models."""
    results = json.loads(RESULTS.read_text())
    rows = results["models"]
    most = max(e["threads"] for r in rows for e in r["latency"])
    runtimes = ("ort-cpu", "ncnn", "litert")  # the runtime each shipped format is made for
    own = [r for r in rows if r["kind"] == "edgefer" and r["backend"] in runtimes]
    ours = sorted(own, key=lambda r: (SHIPPED.index(r["name"].split()[0]),
                                      runtimes.index(r["backend"]),
                                      ("int8", "fp32", "fp16").index(r["precision"])))
    peers = [r for r in rows if r["kind"] not in ("edgefer", "checkpoint")]
    out = [f"| model | file | runtime | PrivateTest accuracy | faces not also in Training "
           f"| size | p50, 1 thread | p50, {most} threads |",
           "|---|---|---|---:|---:|---:|---:|---:|"]
    for r in ours + peers:
        name = r["name"] if r in ours else f"{r['name']} (peer)"
        if r["file"].endswith(f"{SHIPPED[0]}.int8.onnx"):
            name = f"**{name}** (default)"
        cells = [name, f"`{Path(r['file']).name}`", f"`{r['backend']}`", pct(r["accuracy"]),
                 pct(r["accuracy_unseen"]), f"{r['bytes'] / 1e6:.2f} MB"]
        for threads in (1, most):
            e = latency(r, threads)
            cells.append(f"{e['p50']:.2f} ms" if e else "-")
        out.append("| " + " | ".join(cells) + " |")
    e = latency(rows[0], 1)
    n = rows[0]["n"]
    machine = machine_line(results["machine"], date=results["date"])
    out += ["", f"Measured by `edgefer bench` on {machine}. "
            f"Accuracy on all {n:,} PrivateTest faces; latency of one face per call (batch 1, "
            f"each model's own input size, preprocessing excluded): the lowest of the medians "
            f"of {e['blocks']} blocks of {e['runs']} runs. Every backend, batch 8 and memory: "
            "[benchmarks/results.md](benchmarks/results.md); the command: "
            "[benchmarks/README.md](benchmarks/README.md)."]
    return "\n".join(out)


def export_metrics() -> str:
    """docs/model-card.md: accuracy of each shipped ONNX and LiteRT file, from its own
    metadata."""
    from edgefer import EmotionClassifier

    out = ["| file | precision | checkpoint epoch | val (PublicTest) | test (PrivateTest) "
           "| test, faces not also in Training |",
           "|---|---|---:|---:|---:|---:|"]
    for name in SHIPPED:
        for ending in (".onnx", ".int8.onnx", ".int8.tflite"):
            meta = EmotionClassifier(ASSETS / f"{name}{ending}").meta
            m = meta.metrics
            out.append(f"| `{name}{ending}` | {meta.precision} | {meta.source['epoch']} "
                       f"| {pct(m['val_acc'])} | {pct(m['test_acc'])} "
                       f"| {pct(m['test_unseen_acc'])} |")
    return "\n".join(out)


def per_class() -> str:
    """docs/model-card.md: per-class metrics and the confusion matrix of an evaluation."""
    ev = json.loads(EVALUATION.read_text())
    labels = list(ev["per_class"])
    out = ["| class | recall (accuracy) | precision | F1 | support |", "|---|---:|---:|---:|---:|"]
    for k, c in ev["per_class"].items():
        out.append(f"| {k} | {pct(c['recall'])} | {pct(c['precision'])} | {c['f1']:.3f} "
                   f"| {c['support']:,} |")
    out.append(f"| all | {pct(ev['accuracy'])} | | macro {ev['macro_f1']:.3f} | {ev['n']:,} |")
    out += ["", f"Faces not also in Training: {pct(ev['unseen']['accuracy'])} of "
            f"{ev['unseen']['n']:,}. Confusion matrix (rows: true class, columns: predicted):",
            "", "| true \\ predicted | " + " | ".join(labels) + " |",
            "|---|" + "---:|" * len(labels)]
    for k, row in zip(labels, ev["confusion"], strict=True):
        out.append(f"| {k} | " + " | ".join(str(v) for v in row) + " |")
    return "\n".join(out)


BLOCKS: dict[Path, dict[str, Callable[[], str]]] = {
    REPO / "README.md": {"shipped-models": shipped_models},
    REPO / "docs" / "model-card.md": {"export-metrics": export_metrics, "per-class": per_class},
}


def rendered(path: Path) -> str:
    """`path`'s text with each of its blocks rendered afresh."""
    text = path.read_text()
    for name, render in BLOCKS[path].items():
        pattern = re.compile(rf"(<!-- tables:{name} -->\n).*?(<!-- /tables:{name} -->)", re.S)
        if not pattern.search(text):
            raise SystemExit(f"{path.relative_to(REPO)}: no block {name!r} (markers "
                             f"<!-- tables:{name} --> ... <!-- /tables:{name} -->)")
        body = render()
        text = pattern.sub(lambda m, body=body: f"{m[1]}{body}\n{m[2]}", text)
    return text


def stale() -> list[str]:
    """The files whose blocks differ from what their sources give now."""
    return [str(p.relative_to(REPO)) for p in BLOCKS if rendered(p) != p.read_text()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if a block is stale; write nothing")
    args = parser.parse_args(argv)
    if args.check:
        old = stale()
        for name in old:
            print(f"{name}: stale tables; run python docs/tables.py")
        return 1 if old else 0
    for path in BLOCKS:
        new = rendered(path)
        if new != path.read_text():
            atomic_write_text(path, new)
            print(f"rewrote {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
