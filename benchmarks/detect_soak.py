"""Memory and speed over a long `edgefer detect` run: a 4-face 640x480 video looped.

Usage: python benchmarks/detect_soak.py [--frames 5000] [--model M] [--detector YUNET]
Prints resident memory (RSS) and the median per-frame time for each block of frames.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from edgefer.bench.measure import rss_mb
from edgefer.bench.pipeline_speed import write_video
from edgefer.bench.suite import PIPELINE_FACES
from edgefer.data import load_faces, resolve_data
from edgefer.runtime import EmotionClassifier
from edgefer.runtime.defaults import DETECT
from edgefer.runtime.face_detector import FaceDetector, video_det_size
from edgefer.runtime.pipeline import EmotionPipeline
from edgefer.runtime.sources import FrameSource
from edgefer.runtime.tracker import Tracker


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=5000)
    ap.add_argument("--block", type=int, default=500)
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--detector", default=os.environ.get("EDGEFER_DETECTOR"))
    ap.add_argument("--data", default=None)
    args = ap.parse_args()
    faces = load_faces(resolve_data(args.data)).split("test").images[PIPELINE_FACES]
    clf = EmotionClassifier(args.model)
    pipeline = EmotionPipeline(clf, FaceDetector(
        args.detector, det_size=video_det_size(640, 480, DETECT.min_face)))
    tracker = Tracker(clf.labels)
    print("| frames | RSS MB | median ms/frame |\n|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        video = Path(tmp) / "loop.mp4"
        write_video(faces, video, 300)
        done, times, first = 0, [], None
        while done < args.frames:
            for frame in FrameSource(str(video)):
                start = time.perf_counter()
                tracker.update(pipeline(frame.image).faces)
                times.append((time.perf_counter() - start) * 1000 + frame.decode_ms)
                done += 1
                if done % args.block == 0:
                    first = first or rss_mb()
                    print(f"| {done} | {rss_mb():.1f} | {statistics.median(times):.2f} |",
                          flush=True)
                    times = []
                if done >= args.frames:
                    break
    print(f"\nRSS growth from frame {args.block} to {done}: "
          f"{100 * (rss_mb() - first) / first:+.2f}%")


if __name__ == "__main__":
    main()
