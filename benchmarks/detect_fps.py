"""End-to-end `edgefer detect` speed on a 640x480 video of 1 and 4 real FER2013 faces.

Usage: python benchmarks/detect_fps.py [--model M] [--detector YUNET] [--data PATH]
Prints per-stage median milliseconds and frames per second (video decode, detection,
classification and tracking included) at 1 and 2 threads, as a markdown table. Torch-free.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from edgefer.bench.pipeline_speed import pipeline_speed
from edgefer.bench.suite import PIPELINE_FACES as FACES
from edgefer.data import load_faces, resolve_data
from edgefer.machine import machine_info
from edgefer.runtime.assets import resolve_model


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--detector", default=os.environ.get("EDGEFER_DETECTOR"))
    ap.add_argument("--data", default=None)
    ap.add_argument("--frames", type=int, default=300)
    args = ap.parse_args()
    model = resolve_model(args.model)
    test = load_faces(resolve_data(args.data)).split("test").images
    info = machine_info()
    print(f"model {model.name}; {info['cpu']}, {info['cores']} cores, onnxruntime "
          f"{info['onnxruntime']}, OpenCV {info['opencv']}; {args.frames} frames of 640x480\n")
    print("| faces | threads | decode ms | detect ms | classify ms | FPS end to end |")
    print("|---:|---:|---:|---:|---:|---:|")
    for n in (1, 4):
        for threads in (1, 2):
            r = pipeline_speed(model, args.detector, test[FACES[:n]], threads, args.frames)
            print(f"| {n} ({r.faces_found:.0f} found) | {threads} | {r.decode_ms:.2f} | "
                  f"{r.detect_ms:.2f} | {r.classify_ms:.2f} | {r.fps:.1f} |",
                  flush=True)


if __name__ == "__main__":
    main()
