"""Plan, run and summarise a benchmark: every candidate in its own fresh process."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import onnxruntime as ort
from rich.console import Console
from rich.progress import Progress

from edgefer.bench.measure import measure_candidate
from edgefer.bench.pipeline_speed import pipeline_speed
from edgefer.bench.records import BenchResults, CandidateResult
from edgefer.bench.runners import Candidate, peer_candidates
from edgefer.data import load_faces
from edgefer.errors import EdgeferError, installed
from edgefer.machine import machine_info
from edgefer.modelmeta import ModelMeta
from edgefer.runtime import EmotionClassifier
from edgefer.runtime.backends import check_backend
from edgefer.runtime.formats import BACKENDS, backends_for, model_format, own_format

PIPELINE_FACES = [3, 10, 25, 40]  # fixed PrivateTest faces for the composite video


@dataclass
class BenchOptions:
    """What to benchmark and how hard."""

    models: list[Path]
    data: Path
    checkpoint: Path | None = None
    peers: Path | None = None
    detector: Path | None = None
    quick: bool = False
    backends: list[str] | None = None  # our models' backends (default: all that can run)

    @property
    def threads(self) -> list[int]:
        return [1] if self.quick else sorted({1, 2, os.cpu_count() or 1})

    @property
    def runs(self) -> int:
        return 50 if self.quick else 500


def plan(opts: BenchOptions, console: Console | None = None) -> list[Candidate]:
    """Our models on every backend that can run them (optional ones when installed), then
    the peers."""
    out: list[Candidate] = []
    for b in opts.backends or []:
        if b == "auto":
            raise EdgeferError("--backend auto is a choice, not a backend to measure: name "
                               f"one of {', '.join(BACKENDS[1:])}")
        check_backend(b)
    for path in opts.models:
        meta = EmotionClassifier(path, backend="ort-cpu").meta \
            if model_format(path).name == "onnx" else None
        runnable = _backends(path, meta, opts.quick)
        if opts.backends:
            runnable = [b for b in runnable if b in opts.backends]
        missing = [b for b in runnable
                   if (own := own_format(b)) and own.runtime and not installed(own.runtime)]
        if missing and console is not None:
            extras = ",".join(own_format(b).extra for b in missing)
            console.print(f"{', '.join(missing)} not installed: {path.name} skipped there "
                          f"(pip install 'edgefer[{extras}]')", markup=False)
        runnable = [b for b in runnable if b not in missing]
        if runnable:
            meta = meta or EmotionClassifier(path, backend=runnable[0]).meta
            out += [Candidate(f"{meta.arch} {meta.precision}", path, b, "edgefer",
                              meta.precision) for b in runnable]
    if opts.checkpoint is not None:
        out.append(Candidate(f"{opts.checkpoint.parent.name} checkpoint", opts.checkpoint,
                             "torch", "checkpoint", "fp32"))
    if opts.peers is not None:
        peers = peer_candidates(opts.peers)
        out += peers[:1] if opts.quick else peers
    return out


def _backends(path: Path, meta: ModelMeta | None, quick: bool) -> list[str]:
    """The backends that can run a model file, by its format and (ONNX: `meta`'s) precision
    (`formats.backends_for`), ort-cuda only where onnxruntime has CUDA; `quick` leaves
    OpenCV DNN out."""
    fmt = model_format(path)
    out = list(backends_for(fmt, meta.precision if meta else "fp32"))
    if "CUDAExecutionProvider" not in ort.get_available_providers() and "ort-cuda" in out:
        out.remove("ort-cuda")
    return [b for b in out if not (quick and b == "opencv")]


def run_suite(opts: BenchOptions, console: Console) -> BenchResults:
    """Measure every candidate and the end-to-end pipeline; returns the JSON-ready results."""
    candidates = plan(opts, console)
    if not candidates:
        raise EdgeferError("nothing to benchmark: pass --model")
    limit = 500 if opts.quick else None
    rows = []
    ctx = multiprocessing.get_context("spawn")
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("benchmark", total=len(candidates) + 1)
        for c in candidates:
            bar.update(task, description=c.label)
            with ProcessPoolExecutor(1, mp_context=ctx) as pool:
                rows.append(pool.submit(measure_candidate, c, opts.data, limit, opts.threads,
                                        [1, 8], opts.runs, opts.detector).result())
            bar.advance(task)
        bar.update(task, description="end-to-end pipeline")
        faces = load_faces(opts.data).split("test").images[PIPELINE_FACES]
        pipeline = [pipeline_speed(opts.models[-1], opts.detector, faces[:n], t,
                                   frames=60 if opts.quick else 300)
                    for n in ((1,) if opts.quick else (1, 4))
                    for t in ([1] if opts.quick else [1, os.cpu_count() or 1])]
        bar.advance(task)
    add_ratios(rows)
    return BenchResults(machine_info(), opts.quick, str(opts.data), str(opts.models[-1]), rows,
                        pipeline)


def add_ratios(rows: list[CandidateResult]) -> None:
    """Each latency entry's p50 over our int8 model's at the same threads and batch, and each
    row's accuracy minus that model's (the reference: the last int8 edgefer row on CPU, the
    default shipped model when no --model is given)."""
    ref = next((r for r in reversed(rows) if r.kind == "edgefer" and r.precision == "int8"
                and r.backend == "ort-cpu"), None)
    if ref is None:
        return
    ref_p50 = {(e.threads, e.batch): e.p50 for e in ref.latency}
    for r in rows:
        r.accuracy_vs_ref_points = 100 * (r.accuracy - ref.accuracy)
        for e in r.latency:
            key = (e.threads, e.batch)
            e.p50_vs_ref = e.p50 / ref_p50[key] if key in ref_p50 else None
