"""Does eye-level alignment help, and which crop margin? FER2013 faces, upscaled, tilted
by a known angle and placed in a frame, then detected (YuNet at 320 px) and classified with
and without alignment.

The table gives accuracy (against the FER2013 label) on the faces found, per tilt range and
crop mode, next to the model's accuracy on the original 48x48 crops. --split val to choose
settings, test to report. Torch-free.
"""

from __future__ import annotations

import cv2
import numpy as np

from edgefer.bench import harness
from edgefer.data import load_faces
from edgefer.runtime import EmotionClassifier
from edgefer.runtime.face_detector import FaceDetector
from edgefer.runtime.pipeline import EmotionPipeline

TILTS = ((0, 0), (10, 20), (20, 30))  # degrees, either way


def tilted_frame(face: np.ndarray, angle: float) -> np.ndarray:
    """A 320x320 BGR frame holding the face upscaled to 160 px and rotated by `angle`."""
    big = cv2.resize(face, (160, 160), interpolation=cv2.INTER_CUBIC)
    frame = np.full((320, 320), 90, np.uint8)
    frame[80:240, 80:240] = big
    m = cv2.getRotationMatrix2D((160, 160), angle, 1.0)
    frame = cv2.warpAffine(frame, m, (320, 320), borderValue=90)
    return cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)


def found_and_right(pipeline: EmotionPipeline, frames: list[np.ndarray],
                    labels: np.ndarray) -> tuple[int, int]:
    """Faces found (the best detection per frame) and, of those, rightly classified."""
    found = right = 0
    for frame, label in zip(frames, labels, strict=True):
        faces = pipeline(frame).faces
        if faces:
            found += 1
            right += pipeline.classifier.labels.index(max(faces, key=lambda f: f.score)
                                                      .emotion) == label
    return found, right


def main(argv: list[str] | None = None) -> None:
    ap = harness.parser(__doc__, __file__, "data", "detector", "model", "threads", "out")
    ap.add_argument("--n", type=harness.positive, default=1000, help="faces per tilt range")
    ap.add_argument("--split", default="val", choices=["val", "test"])
    ap.add_argument("--margin", type=float, default=0.0, help="crop margin (detect --margin)")
    args = ap.parse(argv)
    faces = load_faces(args.data).split(args.split).sample(args.n, seed=0)
    clf = EmotionClassifier(args.model, threads=args.threads)
    detector = FaceDetector(args.detector, det_size=320, threads=args.threads)
    direct = float((clf.predict_probs(faces.images).argmax(1) == faces.labels).mean())
    rng = np.random.default_rng(0)
    report = harness.Report.start(args.command)
    report.add(f"{len(faces)} FER2013 {args.split} faces, model {clf.path.name}; accuracy on "
               f"the original 48x48 crops: {direct:.4f}; crop margin {args.margin}.")
    table = report.add(harness.Table({"tilt": "", "crop": "", "faces found": "",
                                      "accuracy on found faces": ".4f"}))
    for lo, hi in TILTS:
        angles = rng.uniform(lo, hi, len(faces)) * rng.choice([-1, 1], len(faces))
        frames = [tilted_frame(f, a) for f, a in zip(faces.images, angles, strict=True)]
        for align in (False, True):
            pipeline = EmotionPipeline(clf, detector, margin=args.margin, align=align)
            found, right = found_and_right(pipeline, frames, faces.labels)
            print(table.add(f"{lo}-{hi} deg", "aligned" if align else "box only",
                            f"{found}/{len(faces)}", right / max(found, 1)), flush=True)
    harness.publish(report, args.out)


if __name__ == "__main__":
    harness.run(main)
