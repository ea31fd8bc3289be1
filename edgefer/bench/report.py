"""Benchmark results as a terminal table, markdown and an accuracy-vs-latency plot."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table

from edgefer.atomic import atomic_write, atomic_write_text
from edgefer.bench import harness
from edgefer.bench.records import BenchResults
from edgefer.machine import machine_line

HEADER = ("model", "backend", "thr", "batch", "acc", "acc unseen", "p50 ms", "p90 ms", "p99 ms",
          "faces/s", "MB", "load ms", "model RSS MB", "x ref p50")


def rows(results: BenchResults) -> list[list[str]]:
    """One row per model, backend, threads and batch."""
    out = []
    for r in results.models:
        for e in r.latency:
            out.append([r.name, r.backend, str(e.threads), str(e.batch), f"{r.accuracy:.4f}",
                        f"{r.accuracy_unseen:.4f}", f"{e.p50:.3f}", f"{e.p90:.3f}",
                        f"{e.p99:.3f}", f"{e.faces_per_s:.0f}", f"{r.bytes / 1e6:.2f}",
                        f"{r.load_ms:.0f}", f"{r.rss_model_mb:.1f}",
                        "" if e.p50_vs_ref is None else f"{e.p50_vs_ref:.2f}"])
    return out


def pipeline_rows(results: BenchResults) -> list[list[str]]:
    return [[str(p.faces), str(p.threads), str(p.detect_every), f"{p.decode_ms:.2f}",
             f"{p.detect_ms:.2f}", f"{p.classify_ms:.2f}", f"{p.fps:.1f}"]
            for p in results.pipeline]


REF_NOTE = ("`x ref p50`: the row's p50 over the reference's at the same threads and batch, "
            "the reference being the last int8 edgefer model on ort-cpu (the default shipped "
            "model when no --model is given).")
PIPELINE_HEADER = ("faces", "threads", "detect every", "decode ms", "detect ms", "classify ms",
                   "FPS")


def tables(results: BenchResults) -> list[Table]:
    m = results.machine
    main = Table(title=f"FER2013 PrivateTest, {m['cpu']} ({m['cores']} cores)")
    for h in HEADER:
        main.add_column(h, justify="left" if h in ("model", "backend") else "right")
    for row in rows(results):
        main.add_row(*row)
    pipe = Table(title="edgefer detect end to end, 640x480 video, default settings (ms: mean "
                       "per frame)")
    for h in PIPELINE_HEADER:
        pipe.add_column(h, justify="right")
    for row in pipeline_rows(results):
        pipe.add_row(*row)
    return [main, pipe]


def markdown(results: BenchResults) -> str:
    """The page: the machine line, the model table with its note, the end-to-end table."""
    lines = [f"Machine: {machine_line(results.machine, date=results.date, torch=True)}.", ""]
    for header, body, note in ((HEADER, rows(results), [REF_NOTE, ""]),
                               (PIPELINE_HEADER, pipeline_rows(results), [])):
        lines += [harness.Table(dict.fromkeys(header, ""), body).markdown(), "", *note]
    return "\n".join(lines)


def write_markdown(results: BenchResults, path: Path) -> None:
    atomic_write_text(path, markdown(results))


def plot(results: BenchResults, path: Path) -> None:
    """Accuracy vs single-face p50 latency (1 thread, batch 1), log latency axis."""
    from edgefer.plots import pyplot

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(10, 5), dpi=100)
    points = [(r, e) for r in results.models for e in r.latency
              if e.threads == 1 and e.batch == 1]
    colours = plt.get_cmap("tab20")
    for i, (r, e) in enumerate(sorted(points, key=lambda p: p[1].p50)):
        ax.scatter(e.p50, 100 * r.accuracy, s=70, marker="o" if r.ours else "s",
                   color=colours(i % 20), edgecolor="black" if r.ours else "none",
                   label=f"{r.name} ({r.backend}): {100 * r.accuracy:.1f}%, {e.p50:.2f} ms")
    ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=8,
              title="circles: edgefer, squares: peers")
    ax.set_xscale("log")
    ax.margins(x=0.2, y=0.1)
    ax.set(xlabel="p50 latency per face, ms (1 thread, batch 1, log scale)",
           ylabel="FER2013 PrivateTest accuracy, %",
           title=f"Accuracy vs latency on {results.machine['cpu']}")
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png"))
    plt.close(fig)
