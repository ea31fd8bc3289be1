"""Stable face ids across video frames (greedy IoU matching) and per-track smoothing of the
emotion probabilities (exponential moving average), so labels do not flicker."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgefer.errors import EdgeferError
from edgefer.runtime.results import FaceResult


def iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Intersection over union of two (x, y, w, h) boxes."""
    iw = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    ih = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def check_smoothing(smoothing: float) -> None:
    """EdgeferError unless `smoothing` is a weight in [0, 1)."""
    if not 0 <= smoothing < 1:
        raise EdgeferError(f"smoothing must be in [0, 1), not {smoothing}")


@dataclass
class _Track:
    box: tuple[int, int, int, int]
    probs: np.ndarray
    missed: int = 0


class Tracker:
    """Assigns track ids and smooths probabilities: p = s * p_prev + (1 - s) * p_now."""

    def __init__(self, labels: list[str], smoothing: float = 0.6, iou_threshold: float = 0.3,
                 max_missed: int = 15) -> None:
        check_smoothing(smoothing)
        self.labels, self.smoothing = labels, smoothing
        self.iou_threshold, self.max_missed = iou_threshold, max_missed
        self.tracks: dict[int, _Track] = {}
        self._next_id = 0

    def update(self, faces: list[FaceResult]) -> list[FaceResult]:
        """Give each face a track id and smoothed probabilities (faces are updated in place)."""
        pairs = sorted(((iou(t.box, f.box), tid, i) for tid, t in self.tracks.items()
                        for i, f in enumerate(faces)), reverse=True)
        assigned: dict[int, int] = {}
        used: set[int] = set()
        for overlap, tid, i in pairs:
            if overlap < self.iou_threshold:
                break
            if tid not in used and i not in assigned:
                assigned[i], used = tid, used | {tid}
        for i, face in enumerate(faces):
            now = np.array([face.probs[k] for k in self.labels])
            if i in assigned:
                track = self.tracks[assigned[i]]
                track.probs = self.smoothing * track.probs + (1 - self.smoothing) * now
                track.box, track.missed = face.box, 0
                face.track_id = assigned[i]
            else:
                face.track_id = self._next_id
                self.tracks[self._next_id] = _Track(face.box, now)
                self._next_id += 1
                track = self.tracks[face.track_id]
            k = int(track.probs.argmax())
            face.emotion, face.confidence = self.labels[k], float(track.probs[k])
            face.probs = {name: float(p) for name, p in zip(self.labels, track.probs, strict=True)}
        for tid in set(self.tracks) - {f.track_id for f in faces}:
            self.tracks[tid].missed += 1
            if self.tracks[tid].missed > self.max_missed:
                del self.tracks[tid]
        return faces
