"""Detecting faces on every Nth video frame: speed, and boxes and labels against every frame.

Usage: python benchmarks/detect_every.py [--data PATH] [--detector YUNET] [--frames 300]
           [--repeats 3] [--every 1 2 3 5] [--out benchmarks]
Two kinds of 640x480 video, written as MJPG and read back through `FrameSource` so decoding
counts: (a) synthetic: FER2013 test faces (120 px) pasted on a scikit-image photo, each going
back and forth at 3 px/frame and up and down on a sine (up to 2 px/frame), their true boxes
known; (b) real: OpenCV's astronaut photo (1 face), or a 2x2 mosaic of it and its mirror
image (4 faces), filmed by a virtual camera panning and zooming smoothly. Each is run
through `Recognizer` at 2 threads detecting on every N frames (boxes carried forward by the
tracker in between) with each detector engine ("ort", "opencv": the same boxes); the runs
take turns and FPS is the median over --repeats. Box IoU and label agreement compare each
face found at N=1 with the best-overlapping face at N; the recommended N is the largest
keeping both on the real videos. Writes detect_every.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from edgefer.atomic import atomic_write_text
from edgefer.bench.recall import background_photos
from edgefer.bench.suite import PIPELINE_FACES
from edgefer.bench.videos import camera_pan, write_video
from edgefer.data import load_faces, resolve_data
from edgefer.machine import machine_info
from edgefer.runtime.recognizer import Recognizer
from edgefer.runtime.tracker import iou

SIZE = (640, 480)
SIDE = 120  # pasted face side, px
CENTRES = {1: [(320, 240)], 4: [(170, 130), (470, 130), (170, 350), (470, 350)]}
PHOTO = Path(__file__).resolve().parents[2] / "shared" / "models" / "testdata" / "astronaut.png"
ENGINES = ("ort", "opencv")
MIN_IOU, MIN_AGREE = 0.8, 0.95  # what a default N must keep against detecting every frame
MATCH_IOU = 0.4  # a face at N is the same face as at N=1 from this overlap on
Box = tuple[int, int, int, int]
Key = tuple[str, int, str, int]  # video, faces, engine, N


@dataclass
class Video:
    """A video file to run, and the true face boxes per frame where known."""

    name: str
    faces: int
    path: Path
    truth: list[list[Box]] | None = None


@dataclass
class Run:
    """One setting on one video: FPS per repeat, and (box, emotion) per face per frame."""

    fps: list[float] = field(default_factory=list)
    faces: list[list[tuple[Box, str]]] = field(default_factory=list)


def triangle(s: float, amplitude: float) -> float:
    """A wave in [-amplitude, amplitude] moving one unit per unit of `s`, back and forth."""
    return amplitude - abs((s + amplitude) % (4 * amplitude) - 2 * amplitude)


def synthetic(faces: np.ndarray, background: np.ndarray, n: int, frames: int,
              path: Path) -> Video:
    """FER2013 faces moving over a photo along known paths."""
    base = cv2.resize(background, SIZE, interpolation=cv2.INTER_AREA)
    pasted = [cv2.cvtColor(cv2.resize(f, (SIDE, SIDE), interpolation=cv2.INTER_CUBIC),
                           cv2.COLOR_GRAY2BGR) for f in faces[:n]]
    images, truth = [], []
    for t in range(frames):
        img, boxes = base.copy(), []
        for j, ((cx, cy), face) in enumerate(zip(CENTRES[n], pasted, strict=True)):
            x = round(cx + triangle(3 * t + 25 * j, 60 if n == 4 else 150) - SIDE / 2)
            y = round(cy + 30 * np.sin(2 * np.pi * t / 90 + j) - SIDE / 2)
            img[y:y + SIDE, x:x + SIDE] = face
            boxes.append((x, y, SIDE, SIDE))
        images.append(img)
        truth.append(boxes)
    return Video("synthetic", n, write_video(path, images), truth)


def videos(faces: np.ndarray, frames: int, folder: Path) -> list[Video]:
    photo = cv2.imread(str(PHOTO))
    mosaic = np.vstack([np.hstack([photo, photo[:, ::-1]])] * 2)
    background = background_photos(("coffee.png",))["coffee.png"]
    return [synthetic(faces, background, 1, frames, folder / "synthetic1.avi"),
            synthetic(faces, background, 4, frames, folder / "synthetic4.avi"),
            Video("real", 1, camera_pan(photo, folder / "real1.avi", focus=(223, 120),
                                        frames=frames)),
            Video("real", 4, camera_pan(mosaic, folder / "real4.avi", focus=(512, 512),
                                        frames=frames))]


def run(recognizer: Recognizer, video: Video, into: Run) -> None:
    """Time one pass over the video (decode to tracking); keep its faces the first time."""
    start = time.perf_counter()
    results = [[(f.box, f.emotion) for f in r.faces] for r in recognizer.stream(video.path)]
    into.fps.append(len(results) / (time.perf_counter() - start))
    into.faces = into.faces or results


def box_iou(reference: list[list[Box]], faces: list[list[tuple[Box, str]]]) -> float:
    """Mean over the reference boxes of the best IoU with a face of the same frame."""
    scores = [max((iou(box, b) for b, _ in found), default=0.0)
              for boxes, found in zip(reference, faces, strict=True) for box in boxes]
    return float(np.mean(scores))


def agreement(reference: list[list[tuple[Box, str]]],
              faces: list[list[tuple[Box, str]]]) -> float:
    """Share of reference faces whose best-overlapping face (IoU >= MATCH_IOU) has the same
    emotion."""
    same = []
    for ref, found in zip(reference, faces, strict=True):
        for box, emotion in ref:
            best = max(found, key=lambda f, b=box: iou(f[0], b), default=None)
            same.append(best is not None and iou(best[0], box) >= MATCH_IOU
                        and best[1] == emotion)
    return float(np.mean(same))


def largest_n(worst: dict[int, tuple[float, float]]) -> int:
    """The largest N whose worst box IoU and label agreement meet MIN_IOU and MIN_AGREE."""
    return max(n for n, (b, a) in worst.items() if b >= MIN_IOU and a >= MIN_AGREE)


def report(vids: list[Video], runs: dict[Key, Run], every: list[int],
           args: argparse.Namespace, load: float) -> str:
    """The markdown page, with the recommended N."""
    info = machine_info()
    lines = [f"`python benchmarks/detect_every.py --frames {args.frames} --repeats "
             f"{args.repeats}` on {info['cpu']}, {info['cores']} cores, onnxruntime "
             f"{info['onnxruntime']}, OpenCV {info['opencv']}; load average {load:.1f} at the "
             "start (other jobs share the cores: compare within a video, not across runs).",
             "", "End to end (decode, detect every N frames, carry boxes, crop, classify, "
             f"track) on 640x480 MJPG videos at threads 2; FPS is the median of "
             f"{args.repeats} interleaved passes. IoU and agreement compare with detecting "
             "every frame (N=1) on the same frames; truth IoU with the pasted boxes.", "",
             "| video | faces | N | FPS ort | FPS opencv | speed-up (ort) | box IoU vs N=1 "
             "| labels agree vs N=1 | truth IoU |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    worst: dict[str, dict[int, tuple[float, float]]] = {"real": {}, "all": {}}
    for v in vids:
        ref = runs[v.name, v.faces, "ort", 1]
        for n in every:
            r = runs[v.name, v.faces, "ort", n]
            fps = statistics.median(r.fps)
            opencv = statistics.median(runs[v.name, v.faces, "opencv", n].fps)
            b = box_iou([[box for box, _ in f] for f in ref.faces], r.faces)
            a = agreement(ref.faces, r.faces)
            truth = f"{box_iou(v.truth, r.faces):.3f}" if v.truth else "-"
            lines.append(f"| {v.name} | {v.faces} | {n} | {fps:.1f} | {opencv:.1f} | "
                         f"{fps / statistics.median(ref.fps):.2f} | {b:.3f} | {a:.3f} | "
                         f"{truth} |")
            for group in {"all", v.name} & set(worst):
                low = worst[group].get(n, (1.0, 1.0))
                worst[group][n] = (min(low[0], b), min(low[1], a))
    real, every_video = largest_n(worst["real"]), largest_n(worst["all"])
    lines += ["", f"Recommended default: N = {real}, the largest N keeping box IoU >= "
              f"{MIN_IOU} and label agreement >= {MIN_AGREE:.0%} against N=1 on both real "
              f"videos (worst there at N = {real}: IoU {worst['real'][real][0]:.3f}, agreement "
              f"{worst['real'][real][1]:.1%}); on all four videos the largest is N = "
              f"{every_video}.", ""]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None)
    ap.add_argument("--detector", default=None)
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=3, help="timed passes per setting")
    ap.add_argument("--every", type=int, nargs="+", default=[1, 2, 3, 5])
    ap.add_argument("--out", type=Path, default=Path("benchmarks"))
    args = ap.parse_args()
    every = sorted(set(args.every) | {1})
    test = load_faces(resolve_data(args.data)).split("test")
    load = os.getloadavg()[0]
    recognizers = {(e, n): Recognizer(detector=args.detector, threads=2, detect_every=n,
                                      detector_engine=e) for e in ENGINES for n in every}
    with tempfile.TemporaryDirectory() as tmp:
        vids = videos(test.images[PIPELINE_FACES], args.frames, Path(tmp))
        runs = {(v.name, v.faces, e, n): Run() for v in vids for e, n in recognizers}
        for _ in range(args.repeats):
            for v in vids:
                for (e, n), recognizer in recognizers.items():
                    run(recognizer, v, runs[v.name, v.faces, e, n])
    text = report(vids, runs, every, args, load)
    print(text)
    atomic_write_text(args.out / "detect_every.md", text)


if __name__ == "__main__":
    main()
