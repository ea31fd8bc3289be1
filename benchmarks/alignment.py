"""Does eye-level alignment help, and which crop margin? FER2013 faces, upscaled, tilted
by a known angle and placed in a frame, then detected and classified with and without
alignment.

Usage: python benchmarks/alignment.py [--model M] [--detector YUNET] [--data PATH] [--n 1000]
                                     [--margin 0.0] [--split val|test]
Prints a markdown table: accuracy (against the FER2013 label) per tilt range and crop mode,
next to the model's accuracy on the original 48x48 crops. Torch-free.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import cv2
import numpy as np

from edgefer.data import load_faces, resolve_data
from edgefer.runtime import EmotionClassifier
from edgefer.runtime.face_detector import FaceDetector
from edgefer.runtime.pipeline import EmotionPipeline


def tilted_frame(face: np.ndarray, angle: float) -> np.ndarray:
    """A 320x320 BGR frame holding the face upscaled to 160 px and rotated by `angle`."""
    big = cv2.resize(face, (160, 160), interpolation=cv2.INTER_CUBIC)
    frame = np.full((320, 320), 90, np.uint8)
    frame[80:240, 80:240] = big
    m = cv2.getRotationMatrix2D((160, 160), angle, 1.0)
    frame = cv2.warpAffine(frame, m, (320, 320), borderValue=90)
    return cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--detector", default=os.environ.get("EDGEFER_DETECTOR"))
    ap.add_argument("--data", default=None)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--split", default="val", help="val to choose settings, test to report")
    ap.add_argument("--margin", type=float, default=0.0, help="crop margin (detect --margin)")
    args = ap.parse_args()
    faces = load_faces(resolve_data(args.data)).split(args.split).sample(args.n, seed=0)
    clf = EmotionClassifier(args.model)
    detector = FaceDetector(args.detector, det_size=320)  # as its table was measured
    direct = float((clf.predict_probs(faces.images).argmax(1) == faces.labels).mean())
    rng = np.random.default_rng(0)
    print(f"{len(faces)} FER2013 {args.split} faces, model {clf.path.name}; accuracy on the "
          f"original 48x48 crops: {direct:.4f}; crop margin {args.margin}\n")
    print("| tilt | crop | faces found | accuracy on found faces |\n|---|---|---:|---:|")
    for lo, hi in ((0, 0), (10, 20), (20, 30)):
        angles = rng.uniform(lo, hi, len(faces)) * rng.choice([-1, 1], len(faces))
        frames = [tilted_frame(f, a) for f, a in zip(faces.images, angles, strict=True)]
        for align in (False, True):
            pipeline = EmotionPipeline(clf, detector, margin=args.margin, align=align)
            hits = found = 0
            for frame, label in zip(frames, faces.labels, strict=True):
                found_faces = pipeline(frame).faces
                if found_faces:
                    best = max(found_faces, key=lambda f: f.score)
                    found += 1
                    hits += clf.labels.index(best.emotion) == label
            print(f"| {lo}-{hi} deg | {'aligned' if align else 'box only'} | "
                  f"{found}/{len(faces)} | {hits / max(found, 1):.4f} |", flush=True)


if __name__ == "__main__":
    main()
