"""Write the demo video: a virtual camera panning and zooming over a 2x2 mosaic of the
astronaut photo and its mirror image (four real faces, 640x480, 30 FPS, 10 s at the default
300 frames), as an MJPG .avi.

Then: edgefer detect --source OUT.avi --csv OUT.csv --summary --timeline timeline.png
(`make demo-video` does both).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgefer.bench import harness
from edgefer.bench.videos import camera_pan


def main(argv: list[str] | None = None) -> None:
    ap = harness.parser(__doc__, __file__, "photo")
    ap.add_argument("out", type=Path, help="the video to write (.avi)")
    ap.add_argument("--frames", type=harness.positive, default=300)
    args = ap.parse(argv)
    photo = harness.read_photo(args.photo)
    mosaic = np.vstack([np.hstack([photo, photo[:, ::-1]])] * 2)
    print(camera_pan(mosaic, args.out, frames=args.frames))


if __name__ == "__main__":
    harness.run(main)
