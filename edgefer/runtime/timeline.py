"""A timeline plot of a run: each track's emotion probabilities over time, one panel per
track, drawn with OpenCV so that the runtime needs no plotting library."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import cv2
import numpy as np

from edgefer.atomic import atomic_write
from edgefer.errors import EdgeferError
from edgefer.runtime.records import FaceRecord
from edgefer.runtime.results import COLOURS
from edgefer.runtime.summary import Tallies

WIDTH, PANEL, LEFT, RIGHT, TOP, BOTTOM = 1100, 150, 56, 120, 30, 40
FONT = cv2.FONT_HERSHEY_SIMPLEX


def _ticks(lo: float, hi: float, n: int = 8) -> list[float]:
    """About `n` round tick values covering [lo, hi]."""
    raw = max(hi - lo, 1e-9) / n
    step = min(m * 10 ** math.floor(math.log10(raw)) for m in (1, 2, 5, 10)
                if m * 10 ** math.floor(math.log10(raw)) >= raw)
    return [float(v) for v in np.arange(math.ceil(lo / step) * step, hi + step / 2, step)]


def plot_timeline(records: list[FaceRecord], labels: list[str], path: str | Path,
                  max_tracks: int = 8) -> Path:
    """Write a PNG of the `max_tracks` longest-seen tracks' probabilities over time (over
    frame index where the records have no timestamps)."""
    path = Path(path)
    tallies = Tallies.of(records, labels)
    tracks = tallies.summaries()[:max_tracks]  # the longest seen, in order of arrival
    tracks.sort(key=lambda t: (t.first_s or 0.0, t.track_id or 0))
    if not tracks:
        raise EdgeferError("no face in the records: nothing to plot")
    timed = all(r.time_s is not None for r in records)

    def x_of(r: FaceRecord) -> float:
        return r.time_s if timed else float(r.frame)

    xs = [x_of(r) for r in records]
    x0, x1 = min(xs), max(max(xs), min(xs) + 1e-3)
    gap = 2.5 * ((tallies.frame_interval if timed else 1.0) or 1.0)
    height = TOP + PANEL * len(tracks) + BOTTOM
    img = np.full((height, WIDTH, 3), 255, np.uint8)
    plot_w = WIDTH - LEFT - RIGHT

    def px(x: float) -> int:
        return LEFT + round((x - x0) / (x1 - x0) * plot_w)

    cv2.putText(img, "emotion probability over time, per track", (LEFT, 26), FONT, 0.6,
                (0, 0, 0), 1, cv2.LINE_AA)
    for i, track in enumerate(tracks):
        top, bottom = TOP + i * PANEL + 22, TOP + (i + 1) * PANEL - 8

        def py(p: float, top: int = top, bottom: int = bottom) -> int:
            return bottom - round(p * (bottom - top))

        cv2.rectangle(img, (LEFT, top), (LEFT + plot_w, bottom), (200, 200, 200), 1)
        for p in (0.0, 0.5, 1.0):
            cv2.line(img, (LEFT - 4, py(p)), (LEFT, py(p)), (0, 0, 0), 1)
            cv2.putText(img, f"{p:.1f}", (LEFT - 34, py(p) + 4), FONT, 0.4, (0, 0, 0), 1,
                        cv2.LINE_AA)
        name = "untracked" if track.track_id is None else f"track {track.track_id}"
        cv2.putText(img, f"{name}: {track.dominant} {track.shares[track.dominant]:.0%}",
                    (LEFT, top - 6), FONT, 0.45, (60, 60, 60), 1, cv2.LINE_AA)
        rows = sorted((r for r in records if r.emotion is not None
                       and r.track_id == track.track_id), key=x_of)
        segments: list[list[FaceRecord]] = [rows[:1]]  # broken where the face was gone
        for a, b in itertools.pairwise(rows):
            if x_of(b) - x_of(a) > gap:
                segments.append([])
            segments[-1].append(b)
        for seg in segments:
            for k in range(len(labels)):
                colour = COLOURS[k % len(COLOURS)]
                points = np.int32([(px(x_of(r)), py(r.probs[k])) for r in seg])
                if len(points) > 1:
                    cv2.polylines(img, [points], False, colour, 2, cv2.LINE_AA)
                else:
                    cv2.circle(img, tuple(int(v) for v in points[0]), 2, colour, -1)
    axis_y = TOP + PANEL * len(tracks) - 8
    for t in _ticks(x0, x1):
        cv2.line(img, (px(t), axis_y), (px(t), axis_y + 4), (0, 0, 0), 1)
        cv2.putText(img, f"{t:g}", (px(t) - 10, axis_y + 18), FONT, 0.4, (0, 0, 0), 1,
                    cv2.LINE_AA)
    cv2.putText(img, "time (s)" if timed else "frame", (LEFT + plot_w // 2 - 20, height - 4),
                FONT, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    for k, label in enumerate(labels):
        y = TOP + 20 + 20 * k
        cv2.line(img, (WIDTH - RIGHT + 12, y - 4), (WIDTH - RIGHT + 32, y - 4),
                 COLOURS[k % len(COLOURS)], 3)
        cv2.putText(img, label, (WIDTH - RIGHT + 38, y), FONT, 0.45, (0, 0, 0), 1,
                    cv2.LINE_AA)
    ok, buf = cv2.imencode(".png", img)
    if not ok:
        raise EdgeferError(f"cannot encode {path}")
    atomic_write(path, lambda tmp: tmp.write_bytes(buf.tobytes()))
    return path
