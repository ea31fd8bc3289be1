"""Synthetic video frames made of real FER2013 faces pasted on a plain wall.

Used to test and benchmark the detection pipeline where no labelled video exists.
"""

from __future__ import annotations

import cv2
import numpy as np

# Top-left corners of up to four 180-pixel faces in a 640x480 frame.
SLOTS = ((40, 40), (360, 40), (40, 270), (360, 270))
FACE_SIDE = 180


def composite_frame(faces: np.ndarray, shift: int = 0) -> np.ndarray:
    """A 640x480 BGR frame with up to 4 gray 48x48 faces upscaled to 180 px, moved right by
    `shift` pixels."""
    if len(faces) > len(SLOTS):
        raise ValueError(f"at most {len(SLOTS)} faces fit a frame")
    frame = np.full((480, 640, 3), 90, np.uint8)
    for (x, y), face in zip(SLOTS, faces, strict=False):
        big = cv2.resize(face, (FACE_SIDE, FACE_SIDE), interpolation=cv2.INTER_CUBIC)
        x = min(max(0, x + shift), 640 - FACE_SIDE)
        frame[y:y + FACE_SIDE, x:x + FACE_SIDE] = big[..., None]
    return frame
