"""What the recognizer returns: faces with emotions per frame, drawable and serialisable."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from edgefer.atomic import atomic_write
from edgefer.errors import EdgeferError

# One BGR colour per FER2013 emotion, in label order; other label sets reuse them in turn.
COLOURS = [(60, 60, 230), (60, 160, 60), (180, 80, 160), (40, 200, 250), (200, 120, 40),
           (230, 200, 40), (170, 170, 170)]


@dataclass
class FaceResult:
    """A detected face and its emotion. `box` is (x, y, w, h) in pixels; `landmarks` the
    detector's 5 points (right eye, left eye, nose, right and left mouth corner)."""

    box: tuple[int, int, int, int]
    score: float
    emotion: str
    confidence: float
    probs: dict[str, float]
    landmarks: np.ndarray = field(default_factory=lambda: np.zeros((5, 2), np.float32))
    track_id: int | None = None

    def to_json(self, digits: int = 4) -> dict:
        """JSON-ready dict, probabilities rounded to `digits`."""
        return {"box": [int(v) for v in self.box], "score": round(self.score, digits),
                "emotion": self.emotion, "confidence": round(self.confidence, digits),
                "probs": {k: round(v, digits) for k, v in self.probs.items()},
                "landmarks": np.round(self.landmarks.astype(float), 1).tolist(),
                "track_id": self.track_id}


@dataclass
class FrameResult:
    """All faces of one frame (`image`, BGR), the milliseconds each stage took, and when the
    frame was seen (`time_s`: the video's timestamp, seconds since a camera or stream opened,
    None for still images)."""

    image: np.ndarray
    faces: list[FaceResult]
    labels: list[str]
    source: str = ""
    index: int = 0
    time_ms: dict[str, float] = field(default_factory=dict)
    time_s: float | None = None

    def to_json(self) -> dict:
        """Frame index, time, source, stage times and faces as one JSON-ready dict."""
        return {"frame": self.index,
                "time_s": None if self.time_s is None else round(self.time_s, 3),
                "source": self.source,
                "time_ms": {k: round(v, 3) for k, v in self.time_ms.items()},
                "faces": [f.to_json() for f in self.faces]}

    def plot(self, fps: float | None = None) -> np.ndarray:
        """A copy of the image with each face's box, emotion, confidence bar; FPS if given."""
        img = self.image.copy()
        scale = max(0.4, min(img.shape[:2]) / 800)
        thick = max(1, round(2 * scale))
        for face in self.faces:
            x, y, w, h = face.box
            k = self.labels.index(face.emotion) if face.emotion in self.labels else 0
            colour = COLOURS[k % len(COLOURS)]
            cv2.rectangle(img, (x, y), (x + w, y + h), colour, thick)
            text = f"{face.emotion} {face.confidence:.2f}"
            (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
            top = max(0, y - th - base - 8)
            cv2.rectangle(img, (x, top), (x + max(tw, w) + 4, y), colour, -1)
            cv2.putText(img, text, (x + 2, y - base - 6), cv2.FONT_HERSHEY_SIMPLEX, scale,
                        (0, 0, 0), thick, cv2.LINE_AA)
            bar = round(w * face.confidence)  # confidence bar under the label
            cv2.rectangle(img, (x, y - 4), (x + bar, y - 1), (255, 255, 255), -1)
        if fps is not None:
            cv2.putText(img, f"{fps:.1f} FPS", (8, int(30 * scale) + 8),
                        cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 255, 0), thick, cv2.LINE_AA)
        return img

    def save(self, path: str | Path) -> Path:
        """Write the annotated image (format from the suffix, e.g. .png or .jpg) atomically."""
        path = Path(path)
        ok, buf = cv2.imencode(path.suffix or ".jpg", self.plot())
        if not ok:
            raise EdgeferError(f"cannot encode {path} (suffix {path.suffix or 'missing'})")
        atomic_write(path, lambda tmp: tmp.write_bytes(buf.tobytes()))
        return path
