"""Memory and speed over a long `edgefer detect` run: a 4-face 640x480 MJPG video looped.

The video (`videos.composite_video`: 4 real FER2013 test faces swaying on a plain wall,
300 frames) is played over and over as one stream through `Recognizer.stream` at detect's
defaults (`edgefer.runtime.defaults.DETECT`: detection every 5th frame at the size for
48 px faces, tracked boxes carried in between). For each block of frames the table gives
resident memory (RSS) and the mean and median wall time per frame (decode to tracking);
the last line, RSS growth from the first block to the end. Torch-free.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from edgefer.bench import harness
from edgefer.bench.measure import rss_mb
from edgefer.bench.suite import PIPELINE_FACES
from edgefer.bench.videos import composite_video
from edgefer.data import load_faces
from edgefer.runtime.defaults import DETECT
from edgefer.runtime.recognizer import Recognizer
from edgefer.runtime.sources import FrameSource

LOOP_FRAMES = 300


def main(argv: list[str] | None = None) -> None:
    ap = harness.parser(__doc__, __file__, "data", "detector", "model", "threads", "out",
                        threads=DETECT.threads)
    ap.add_argument("--frames", type=harness.positive, default=20000)
    ap.add_argument("--block", type=harness.positive, default=1000, help="frames per row")
    args = ap.parse(argv)
    if args.block > args.frames:
        ap.error(f"--block ({args.block}) is longer than the run (--frames {args.frames})")
    faces = load_faces(args.data).split("test").images[PIPELINE_FACES]
    recognizer = Recognizer(args.model, args.detector, threads=args.threads)
    loop = min(LOOP_FRAMES, args.frames)
    report = harness.Report.start(args.command)
    report.add(f"Model {args.model.name}, YuNet at detect's defaults (detection every "
               f"{DETECT.detect_every} frames, min face {DETECT.min_face} px, keep "
               f"{DETECT.keep}), {harness.threads_text(args.threads)}, on a looped 640x480 MJPG "
               f"video of {len(faces)} real FER2013 faces ({loop} frames).")
    table = report.add(harness.Table({"frames": "d", "RSS MB": ".1f", "mean ms/frame": ".2f",
                                      "median ms/frame": ".2f"}))
    with tempfile.TemporaryDirectory() as tmp:
        video = composite_video(faces, Path(tmp) / "loop.avi", loop)
        times: list[float] = []
        last = time.perf_counter()
        for i, _ in enumerate(recognizer.stream(FrameSource(str(video), loop=True),
                                                         args.frames), 1):
            now = time.perf_counter()
            times.append((now - last) * 1000)
            last = now
            if i % args.block == 0:
                print(table.add(i, rss_mb(), statistics.mean(times), statistics.median(times)),
                      flush=True)
                times = []
    first, end = table.rows[0][1], table.rows[-1][1]
    report.figures = {"rss_growth": (end - first) / first}
    report.add(f"RSS growth from frame {args.block} to {table.rows[-1][0]}: "
               f"{100 * (end - first) / first:+.2f}%")
    harness.publish(report, args.out)


if __name__ == "__main__":
    harness.run(main)
