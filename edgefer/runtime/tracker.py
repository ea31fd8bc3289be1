"""Stable face ids across video frames (greedy IoU matching), per-track smoothing of the
emotion probabilities (exponential moving average), so labels do not flicker, and boxes
carried forward between detections at each track's velocity."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgefer.errors import BadArgumentError
from edgefer.runtime.face_detector import Face
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
        raise BadArgumentError(f"smoothing must be in [0, 1), not {smoothing}")


@dataclass
class _Track:
    box: tuple[int, int, int, int]
    probs: np.ndarray
    seen: FaceResult  # the last detection
    frame: int  # the frame it was detected in
    velocity: np.ndarray  # (x, y) pixels per frame between the last two detections
    missed: int = 0  # updates since it was last reported
    lost: int = 0  # detection rounds in a row that did not find it
    hits: int = 1  # detection rounds that found it

    def detected(self, face: FaceResult, frame: int) -> None:
        """Take a new detection of this track, estimating the velocity from the last one."""
        self.velocity = np.subtract(face.box[:2], self.seen.box[:2]) / (frame - self.frame)
        self.seen, self.frame = face, frame

    def carried(self, frame: int, width: int, height: int) -> Face | None:
        """The last detection (box and landmarks) moved on to `frame` at the track's
        velocity, clipped to the image; None once it has left it. The size is kept: sizes
        extrapolated from two detections were noisier than the change they followed."""
        dx, dy = self.velocity * (frame - self.frame)
        x, y, w, h = self.seen.box
        x0, y0 = max(0, round(x + dx)), max(0, round(y + dy))
        x1, y1 = min(width, round(x + dx + w)), min(height, round(y + dy + h))
        if x1 <= x0 or y1 <= y0:
            return None
        landmarks = self.seen.landmarks + np.float32([dx, dy])
        return Face((x0, y0, x1 - x0, y1 - y0), landmarks, self.seen.score)


class Tracker:
    """Assigns track ids and smooths probabilities: p = s * p_prev + (1 - s) * p_now.

    Between detections, `carry` gives each live track's box moved on at its velocity (from
    its last two detections); faces classified there go back through `update` with their ids.
    A track found in at least two detection rounds that a round misses keeps being reported
    at its moved-on box (`coasting`) for up to `keep` rounds in a row: a detector that finds
    a small face in most frames, not all, then does not make it blink.
    """

    def __init__(self, labels: list[str], smoothing: float = 0.6, iou_threshold: float = 0.3,
                 max_missed: int = 15, keep: int = 0) -> None:
        check_smoothing(smoothing)
        self.labels, self.smoothing = labels, smoothing
        self.iou_threshold, self.max_missed, self.keep = iou_threshold, max_missed, keep
        self.tracks: dict[int, _Track] = {}
        self._next_id = 0
        self.frame = -1  # index of the last update

    def carry(self, width: int, height: int) -> dict[int, Face]:
        """Boxes for the next frame (`width` x `height`) without detecting: each track seen
        in the last update, moved on at its velocity, by track id."""
        faces = {tid: t.carried(self.frame + 1, width, height)
                 for tid, t in self.tracks.items() if t.missed == 0}
        return {tid: f for tid, f in faces.items() if f is not None}

    def coasting(self, width: int, height: int) -> dict[int, Face]:
        """After a detection round's `update`: the boxes, moved on to this frame, of the
        established tracks it missed that may still be reported, by track id."""
        faces = {tid: t.carried(self.frame, width, height) for tid, t in self.tracks.items()
                 if t.missed == 1 and 1 <= t.lost <= self.keep and t.hits >= 2}
        return {tid: f for tid, f in faces.items() if f is not None}

    def update(self, faces: list[FaceResult], track_ids: list[int] | None = None,
               same_frame: bool = False) -> list[FaceResult]:
        """Give each face a track id and smoothed probabilities (faces are updated in place).

        Faces are detections, matched to tracks by IoU, unless `track_ids` says which track
        each one is (faces at boxes from `carry`, or with `same_frame` from `coasting`,
        added to the frame the last update described)."""
        detection = track_ids is None
        if not same_frame:
            self.frame += 1
        assigned = self._match(faces) if detection else dict(enumerate(track_ids))
        for i, face in enumerate(faces):
            now = np.array([face.probs[k] for k in self.labels])
            if i in assigned:
                track = self.tracks[assigned[i]]
                track.probs = self.smoothing * track.probs + (1 - self.smoothing) * now
                track.box, track.missed = face.box, 0
                if detection:
                    track.detected(face, self.frame)
                    track.lost, track.hits = 0, track.hits + 1
                face.track_id = assigned[i]
            else:
                face.track_id = self._next_id
                self.tracks[self._next_id] = _Track(face.box, now, face, self.frame,
                                                    np.zeros(2))
                self._next_id += 1
                track = self.tracks[face.track_id]
            k = int(track.probs.argmax())
            face.emotion, face.confidence = self.labels[k], float(track.probs[k])
            face.probs = {name: float(p) for name, p in zip(self.labels, track.probs, strict=True)}
        if same_frame:
            return faces
        for tid in set(self.tracks) - {f.track_id for f in faces}:
            self.tracks[tid].missed += 1
            self.tracks[tid].lost += detection
            if self.tracks[tid].missed > self.max_missed:
                del self.tracks[tid]
        return faces

    def _match(self, faces: list[FaceResult]) -> dict[int, int]:
        """Greedy IoU matching: face index -> track id."""
        pairs = sorted(((iou(t.box, f.box), tid, i) for tid, t in self.tracks.items()
                        for i, f in enumerate(faces)), reverse=True)
        assigned: dict[int, int] = {}
        used: set[int] = set()
        for overlap, tid, i in pairs:
            if overlap < self.iou_threshold:
                break
            if tid not in used and i not in assigned:
                assigned[i], used = tid, used | {tid}
        return assigned
