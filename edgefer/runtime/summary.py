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


def frame_interval(records: Iterable[FaceRecord]) -> float | None:
    """The mean time between frames (first to last over the frames between), None without
    timestamps; a live run's `RunSummary` counts it the same way."""
    times = {r.time_s for r in records if r.time_s is not None}
    return (max(times) - min(times)) / (len(times) - 1) if len(times) > 1 else None


class Tallies:
    """Per-track running counts of a run's records: what `summarize` reports, in memory that
    grows with the number of tracks, not of frames (a camera may run for days)."""

    def __init__(self, labels: list[str]) -> None:
        self.labels = labels
        self.tracks: dict[int | None, list] = {}  # frames, first_s, last_s, top counts, sums

    def add(self, r: FaceRecord) -> None:
        if r.emotion is None:
            return
        t = self.tracks.setdefault(r.track_id, [0, None, None, np.zeros(len(self.labels)),
                                                np.zeros(len(self.labels))])
        t[0] += 1
        if r.time_s is not None:
            t[1] = r.time_s if t[1] is None else min(t[1], r.time_s)
            t[2] = r.time_s if t[2] is None else max(t[2], r.time_s)
        t[3][self.labels.index(r.emotion)] += 1
        t[4] += r.probs

    def summaries(self, step: float) -> list[TrackSummary]:
        """One TrackSummary per track, the longest-seen first; `step` is one frame's time."""
        out = [TrackSummary(tid, n, first, last, None if first is None else last - first + step,
                            {k: float(c / n) for k, c in zip(self.labels, top, strict=True)},
                            {k: float(s / n) for k, s in zip(self.labels, sums, strict=True)})
               for tid, (n, first, last, top, sums) in self.tracks.items()]
        return sorted(out, key=lambda t: (-t.frames, -1 if t.track_id is None else t.track_id))


def summarize(records: list[FaceRecord], labels: list[str]) -> list[TrackSummary]:
    """One TrackSummary per track, the longest-seen first."""
    tallies = Tallies(labels)
    for r in records:
        tallies.add(r)
    return tallies.summaries(frame_interval(records) or 0.0)


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
