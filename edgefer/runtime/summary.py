"""What a run saw, per track: how long each face was there and its share of each emotion,
from the records of a live run or of a CSV that `--csv` wrote."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from edgefer.runtime.records import FaceRecord


@dataclass(frozen=True)
class TrackSummary:
    """One tracked face (`track_id` None: the untracked faces of still images together).

    `dwell_s` is the time from its first to its last frame plus one frame interval (None
    without timestamps); `shares` the share of its frames with each emotion on top; `mean`
    its mean probability of each emotion."""

    track_id: int | None
    frames: int
    first_s: float | None
    last_s: float | None
    dwell_s: float | None
    shares: dict[str, float]
    mean: dict[str, float]

    @property
    def dominant(self) -> str:
        """The emotion on top in most of its frames."""
        return max(self.shares, key=self.shares.get)

    def to_json(self) -> dict:
        def r(v: float | None) -> float | None:
            return None if v is None else round(v, 3)

        return {"track_id": self.track_id, "frames": self.frames, "first_s": r(self.first_s),
                "last_s": r(self.last_s), "dwell_s": r(self.dwell_s),
                "dominant": self.dominant,
                "shares": {k: round(v, 4) for k, v in self.shares.items()},
                "mean": {k: round(v, 4) for k, v in self.mean.items()}}


@dataclass
class _Track:
    frames: int
    first_s: float | None
    last_s: float | None
    top: np.ndarray  # frames with each emotion on top
    sums: np.ndarray  # summed probabilities


def _widen(first: float | None, last: float | None, t: float) -> tuple[float, float]:
    """The span (first, last) stretched to hold time `t`."""
    return (t if first is None else min(first, t)), (t if last is None else max(last, t))


class Tallies:
    """Running counts of a run's records, per track and over the frames' timestamps: what
    `summarize` reports, in memory that grows with the number of tracks, not of frames (a
    camera may run for days). Records come a frame at a time, as a run or its CSV gives them."""

    def __init__(self, labels: list[str]) -> None:
        self.labels = labels
        self.tracks: dict[int | None, _Track] = {}
        self.first_s: float | None = None
        self.last_s: float | None = None
        self.timed = 0  # frames with a timestamp
        self._frame: int | None = None

    @classmethod
    def of(cls, records: Iterable[FaceRecord], labels: list[str]) -> Tallies:
        tallies = cls(labels)
        for r in records:
            tallies.add(r)
        return tallies

    def add(self, r: FaceRecord) -> None:
        if r.frame != self._frame and r.time_s is not None:  # a frame's first record
            self.first_s, self.last_s = _widen(self.first_s, self.last_s, r.time_s)
            self.timed += 1
        self._frame = r.frame
        if r.emotion is None:
            return
        n = len(self.labels)
        t = self.tracks.setdefault(r.track_id, _Track(0, None, None, np.zeros(n), np.zeros(n)))
        t.frames += 1
        if r.time_s is not None:
            t.first_s, t.last_s = _widen(t.first_s, t.last_s, r.time_s)
        t.top[self.labels.index(r.emotion)] += 1
        t.sums += r.probs

    @property
    def frame_interval(self) -> float | None:
        """The mean time between frames (first to last over the frames between), None
        without timestamps."""
        return (self.last_s - self.first_s) / (self.timed - 1) if self.timed > 1 else None

    def summaries(self) -> list[TrackSummary]:
        """One TrackSummary per track, the longest-seen first."""
        step = self.frame_interval or 0.0
        out = [TrackSummary(tid, t.frames, t.first_s, t.last_s,
                            None if t.first_s is None else t.last_s - t.first_s + step,
                            {k: float(c / t.frames) for k, c in zip(self.labels, t.top,
                                                                    strict=True)},
                            {k: float(v / t.frames) for k, v in zip(self.labels, t.sums,
                                                                    strict=True)})
               for tid, t in self.tracks.items()]
        return sorted(out, key=lambda t: (-t.frames, -1 if t.track_id is None else t.track_id))


def summarize(records: list[FaceRecord], labels: list[str]) -> list[TrackSummary]:
    """One TrackSummary per track, the longest-seen first."""
    return Tallies.of(records, labels).summaries()


def format_summary(tracks: list[TrackSummary], labels: list[str], frames: int) -> str:
    """A plain-text table: one line per track with dwell time and emotion shares."""
    if not tracks:
        return f"{frames} frame(s), no face"
    short = [k[:8] for k in labels]
    lines = [f"{'track':>6} {'frames':>7} {'from s':>8} {'dwell s':>8}  {'dominant':<9}"
             + "".join(f"{k:>9}" for k in short)]
    for t in tracks:
        tid = "-" if t.track_id is None else str(t.track_id)
        first = "" if t.first_s is None else f"{t.first_s:.2f}"
        dwell = "" if t.dwell_s is None else f"{t.dwell_s:.2f}"
        lines.append(f"{tid:>6} {t.frames:>7} {first:>8} {dwell:>8}  {t.dominant:<9}"
                     + "".join(f"{t.shares[k]:>9.0%}" for k in labels))
    return "\n".join(lines)
