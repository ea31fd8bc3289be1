"""End-to-end `edgefer detect` speed on a 640x480 video of 1 and 4 real FER2013 faces.

Usage: python benchmarks/detect_fps.py [--model M] [--detector YUNET] [--data PATH]
Prints per-stage median milliseconds and frames per second (video decode, detection,
classification and tracking included) at 1 and 2 threads, as a markdown table. Torch-free.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from edgefer.data import load_faces, resolve_data
from edgefer.data.composite import composite_frame
from edgefer.machine import machine_info
from edgefer.runtime import EmotionClassifier
from edgefer.runtime.assets import default_model
from edgefer.runtime.face_detector import FaceDetector
from edgefer.runtime.pipeline import EmotionPipeline
from edgefer.runtime.sources import FrameSource
from edgefer.runtime.tracker import Tracker


def write_video(faces: np.ndarray, path: Path, frames: int) -> None:
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30, (640, 480))
    for t in range(frames):
        out.write(composite_frame(faces, int(8 * np.sin(t / 5))))
    out.release()


def run(video: Path, model: Path, detector: str | None, threads: int) -> dict:
    cv2.setNumThreads(threads)
    clf = EmotionClassifier(model, threads=threads)
    pipeline = EmotionPipeline(clf, FaceDetector(detector))
    tracker = Tracker(clf.labels)
    stages: dict[str, list[float]] = {"decode": [], "detect": [], "classify": []}
    start, n, found = time.perf_counter(), 0, []
    for frame in FrameSource(str(video)):
        result = pipeline(frame.image)
        tracker.update(result.faces)
        stages["decode"].append(frame.decode_ms)
        for k in ("detect", "classify"):
            stages[k].append(result.time_ms[k])
        found.append(len(result.faces))
        n += 1
    fps = n / (time.perf_counter() - start)
    return {**{k: statistics.median(v) for k, v in stages.items()}, "fps": fps,
            "faces": statistics.median(found)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--detector", default=os.environ.get("EDGEFER_DETECTOR"))
    ap.add_argument("--data", default=None)
    ap.add_argument("--frames", type=int, default=300)
    args = ap.parse_args()
    model = args.model or default_model()
    test = load_faces(resolve_data(args.data)).split("test").images
    info = machine_info()
    print(f"model {model.name}; {info['cpu']}, {info['cores']} cores, onnxruntime "
          f"{info['onnxruntime']}, OpenCV {info['opencv']}; {args.frames} frames of 640x480\n")
    print("| faces | threads | decode ms | detect ms | classify ms | FPS end to end |")
    print("|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for n_faces in (1, 4):
            video = Path(tmp) / f"faces{n_faces}.mp4"
            write_video(test[[3, 10, 25, 40][:n_faces]], video, args.frames)
            for threads in (1, 2):
                r = run(video, model, args.detector, threads)
                print(f"| {n_faces} ({r['faces']:.0f} found) | {threads} | {r['decode']:.2f} | "
                      f"{r['detect']:.2f} | {r['classify']:.2f} | {r['fps']:.1f} |", flush=True)


if __name__ == "__main__":
    main()
