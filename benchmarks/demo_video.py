"""Write the demo video: a virtual camera panning and zooming over a 2x2 mosaic of OpenCV's
astronaut photo and its mirror image (four real faces, 640x480, 30 FPS, 10 s).

Usage: python benchmarks/demo_video.py OUT.avi [--photo PATH] [--frames 300]
Then: edgefer detect --source OUT.avi --csv OUT.csv --summary --timeline timeline.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from edgefer.bench.videos import camera_pan

PHOTO = Path(__file__).resolve().parents[2] / "shared" / "models" / "testdata" / "astronaut.png"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--photo", type=Path, default=PHOTO)
    ap.add_argument("--frames", type=int, default=300)
    args = ap.parse_args()
    photo = cv2.imread(str(args.photo))
    if photo is None:
        ap.error(f"cannot read {args.photo}")
    mosaic = np.vstack([np.hstack([photo, photo[:, ::-1]])] * 2)
    print(camera_pan(mosaic, args.out, frames=args.frames))


if __name__ == "__main__":
    main()
