"""Stable face ids across video frames (greedy IoU matching), per-track smoothing of the
emotion probabilities (exponential moving average), so labels do not flicker, and boxes
carried forward between detections at each track's velocity."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgefer.errors import BadArgumentError
from edgefer.runtime.face_detector import Face
from edgefer.runtime.regions import Expected
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
    velocity: np.ndarray  # (x, y) pixels per frame of the box centre, last two detections
    missed: int = 0  # updates since it was last reported
    lost: int = 0  # detection rounds in a row that did not find it
    hits: int = 1  # detection rounds that found it

    @property
    def established(self) -> bool:
        """Found in two or more detection rounds: coasted through misses, and refound at
        the hysteresis share (`regions.REFIND`) instead of the search share."""
        return self.hits >= 2

    def detected(self, face: FaceResult, frame: int) -> None:
        """Take a new detection of this track, estimating the velocity from the last one
        (of the centres: a box that grows or shrinks does not move the face)."""
        self.velocity = (_centre(face.box) - _centre(self.seen.box)) / (frame - self.frame)
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


def _centre(box: tuple[int, int, int, int]) -> np.ndarray:
    x, y, w, h = box
    return np.array([x + w / 2, y + h / 2])


class Tracker:
    """Assigns track ids and smooths probabilities: p = s * p_prev + (1 - s) * p_now at each
    classification.

    Detections go through `update`; between them, `step` reports each live track at its box
    moved on at its velocity (from its last two detections), its emotion as it is. A track
    found in at least two detection rounds that a round misses keeps being reported at its
    moved-on box (`coast`) for up to `keep` rounds in a row: a detector that finds a small
    face in most frames, not all, then does not make it blink; `expected` says where a
    detection round should look for the tracked faces.
    """

    def __init__(self, labels: list[str], smoothing: float = 0.6, iou_threshold: float = 0.3,
                 max_missed: int = 15, keep: int = 0) -> None:
        check_smoothing(smoothing)
        self.labels, self.smoothing = labels, smoothing
        self.iou_threshold, self.max_missed, self.keep = iou_threshold, max_missed, keep
        self.tracks: dict[int, _Track] = {}
        self._next_id = 0
        self.frame = -1  # index of the last update

    def expected(self, width: int, height: int) -> list[Expected]:
        """Where a detection round of the next frame should look for the tracked faces:
        each track missed by at most `keep` rounds in a row, moved on at its velocity."""
        faces = ((t.carried(self.frame + 1, width, height), t.established)
                 for t in self.tracks.values() if t.lost <= self.keep)
        return [Expected(f.box, established) for f, established in faces if f is not None]

    def step(self, width: int, height: int) -> list[FaceResult]:
        """The next frame (`width` x `height`) without detecting or classifying: each track
        seen in the last update, moved on at its velocity, with its emotion as it is."""
        self.frame += 1
        faces = []
        for tid, track in list(self.tracks.items()):
            face = track.carried(self.frame, width, height) if track.missed == 0 else None
            if face is None:
                track.missed += 1
                if track.missed > self.max_missed:
                    del self.tracks[tid]
                continue
            track.box = face.box
            faces.append(self._result(tid, face))
        return faces

    def coast(self, width: int, height: int) -> list[FaceResult]:
        """After a detection round's `update`: the established tracks it missed that may
        still be reported (up to `keep` rounds in a row), at their boxes moved on to this
        frame, with their emotions as they are."""
        faces = []
        for tid, track in self.tracks.items():
            if track.missed == 1 and 1 <= track.lost <= self.keep and track.established:
                face = track.carried(self.frame, width, height)
                if face is not None:
                    track.box, track.missed = face.box, 0
                    faces.append(self._result(tid, face))
        return faces

    def _result(self, tid: int, face: Face) -> FaceResult:
        """A carried face as a result with its track's emotion."""
        return FaceResult(face.box, face.score, *self._emotion(tid), face.landmarks, tid)

    def _emotion(self, tid: int) -> tuple[str, float, dict[str, float]]:
        """A track's emotion, its confidence and its smoothed probabilities by label."""
        probs = self.tracks[tid].probs
        k = int(probs.argmax())
        return self.labels[k], float(probs[k]), dict(zip(self.labels, probs.tolist(), strict=True))

    def update(self, faces: list[FaceResult]) -> list[FaceResult]:
        """The next frame's detections: give each face a track id (matched to the tracks by
        IoU) and its track's smoothed probabilities (faces are updated in place)."""
        self.frame += 1
        assigned = self._match(faces)
        for i, face in enumerate(faces):
            now = np.array([face.probs[k] for k in self.labels])
            if i in assigned:
                track = self.tracks[assigned[i]]
                track.probs = self.smoothing * track.probs + (1 - self.smoothing) * now
                track.box, track.missed, track.lost = face.box, 0, 0
                track.detected(face, self.frame)
                track.hits += 1
                face.track_id = assigned[i]
            else:
                face.track_id = self._next_id
                self.tracks[self._next_id] = _Track(face.box, now, face, self.frame,
                                                    np.zeros(2))
                self._next_id += 1
            face.emotion, face.confidence, face.probs = self._emotion(face.track_id)
        for tid in set(self.tracks) - {f.track_id for f in faces}:
            self.tracks[tid].missed += 1
            self.tracks[tid].lost += 1
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
