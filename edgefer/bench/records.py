"""The benchmark's results as typed records; `asdict` of `BenchResults` is the JSON written."""

from __future__ import annotations

import datetime
from dataclasses import asdict, dataclass, field

from edgefer.latency import Latency


@dataclass
class LatencyEntry(Latency):
    """One threads x batch configuration of a candidate, in ms per call."""

    threads: int = 1
    batch: int = 1
    faces_per_s: float = 0.0
    p50_vs_ref: float | None = None  # over the reference int8 model's p50 (see add_ratios)


@dataclass
class CandidateResult:
    """Everything measured of one model on one backend (in its own process)."""

    name: str
    backend: str
    precision: str
    kind: str  # edgefer, checkpoint, xception, mobilefacenet
    file: str
    bytes: int
    load_ms: float
    n: int
    accuracy: float
    accuracy_unseen: float
    rss_model_mb: float
    rss_mb: float
    rss_peak_mb: float
    latency: list[LatencyEntry]
    accuracy_vs_ref_points: float | None = None

    @property
    def ours(self) -> bool:
        return self.kind in ("edgefer", "checkpoint")


@dataclass
class PipelineSpeed:
    """`edgefer detect` end to end on a composite video at its default settings: mean ms
    per frame for each stage, and FPS."""

    faces: int
    faces_found: float
    threads: int
    frames: int
    fps: float
    detect_every: int
    decode_ms: float
    detect_ms: float
    classify_ms: float


@dataclass
class BenchResults:
    """One `edgefer bench` run."""

    machine: dict
    quick: bool
    data: str
    pipeline_model: str
    models: list[CandidateResult]
    pipeline: list[PipelineSpeed] = field(default_factory=list)
    date: str = field(default_factory=lambda: datetime.date.today().isoformat())

    def to_dict(self) -> dict:
        return asdict(self)
