"""The `edgefer detect` loop: frames -> faces and emotions -> JSON lines, overlay, output."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import cv2

from edgefer.errors import EdgeferError
from edgefer.runtime.annotate import annotate
from edgefer.runtime.pipeline import EmotionPipeline
from edgefer.runtime.sources import FrameSource
from edgefer.runtime.tracker import Tracker
from edgefer.runtime.writer import FrameWriter


@dataclass
class DetectOptions:
    """What to do with each frame."""

    as_json: bool = False
    save: Path | None = None
    show: bool = False
    max_frames: int | None = None
    smoothing: float = 0.6


def run_detect(pipeline: EmotionPipeline, source: FrameSource, opts: DetectOptions) -> int:
    """Process every frame; returns the frame count. Ctrl-C stops cleanly, output finalised."""
    if opts.max_frames is not None and opts.max_frames < 1:
        raise EdgeferError("--max-frames must be at least 1")
    labels = pipeline.classifier.labels
    tracker = Tracker(labels, opts.smoothing) if source.is_video else None
    writer = FrameWriter(opts.save, source.is_video, source.fps, source.many_images) \
        if opts.save else None
    count, fps, interrupted = 0, None, False
    try:
        for frame in source:
            if opts.max_frames is not None and count >= opts.max_frames:
                break
            start = time.perf_counter()
            result = pipeline(frame.image)
            if tracker is not None:
                tracker.update(result.faces)
            result.time_ms = {"decode": frame.decode_ms, **result.time_ms}
            total = frame.decode_ms + (time.perf_counter() - start) * 1000
            fps = 1000 / total if fps is None else 0.9 * fps + 0.1 * 1000 / total
            if opts.as_json:
                print(json.dumps({**result.to_json(count), "source": frame.name}), flush=True)
            elif not source.is_video:
                found = ", ".join(f"{f.emotion} {f.confidence:.2f} at {list(f.box)}"
                                  for f in result.faces) or "no face"
                print(f"{frame.name}: {found}", flush=True)
            if writer is not None or opts.show:
                shown = annotate(frame.image, result, labels, fps if source.is_video else None)
                if writer is not None:
                    writer.write(shown, frame.name)
                if opts.show:
                    cv2.imshow("edgefer", shown)
                    if cv2.waitKey(1) & 0xFF in (ord("q"), 27):
                        break
            count += 1
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if writer is not None:
            writer.close()
        source.close()
    if interrupted:
        saved = f"; output saved to {opts.save}" if opts.save else ""
        print(f"interrupted after {count} frames{saved}", file=sys.stderr)
        sys.exit(130)
    return count


def check_display() -> None:
    """Fail clearly where OpenCV cannot open a window (headless build or no display)."""
    try:
        cv2.namedWindow("edgefer")
    except cv2.error:
        raise EdgeferError("--show needs a display and OpenCV built with GUI support "
                           "(opencv-python instead of opencv-python-headless)") from None
