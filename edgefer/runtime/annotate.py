"""Draw boxes, emotion labels and confidence bars on a frame."""

from __future__ import annotations

import cv2
import numpy as np

from edgefer.runtime.pipeline import FrameResult

# One BGR colour per FER2013 emotion, in label order; other label sets reuse them in turn.
COLOURS = [(60, 60, 230), (60, 160, 60), (180, 80, 160), (40, 200, 250), (200, 120, 40),
           (230, 200, 40), (170, 170, 170)]


def annotate(frame: np.ndarray, result: FrameResult, labels: list[str],
             fps: float | None = None) -> np.ndarray:
    """A copy of `frame` with each face's box, label, confidence bar; FPS in the corner."""
    img = frame.copy()
    scale = max(0.4, min(img.shape[:2]) / 800)
    thick = max(1, round(2 * scale))
    for face in result.faces:
        x, y, w, h = face.box
        colour = COLOURS[labels.index(face.emotion) % len(COLOURS)]
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
        cv2.putText(img, f"{fps:.1f} FPS", (8, int(30 * scale) + 8), cv2.FONT_HERSHEY_SIMPLEX,
                    scale, (0, 255, 0), thick, cv2.LINE_AA)
    return img
