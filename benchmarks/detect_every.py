"""Detecting faces on every Nth video frame: speed, and boxes and labels against every frame.

Two kinds of 640x480 video, written as MJPG and read back through `FrameSource` so decoding
counts: (a) synthetic: FER2013 test faces (120 px) pasted on a scikit-image photo, going
back and forth at 3 px/frame and up and down on a sine (`videos.back_and_forth`), their true
boxes known; (b) real: the astronaut photo (1 face), or a 2x2 mosaic of it and its mirror
image (4 faces), filmed by a virtual camera panning and zooming smoothly
(`videos.camera_pan`). Each is run through `Recognizer` detecting on every N frames (boxes
carried forward by the tracker in between) with each detector engine ("ort", "opencv": the
same boxes); the runs take turns and FPS is the median over --repeats. Box IoU and label
agreement compare each face found at N=1 with the best-overlapping face at N; the
recommended N is the largest keeping both on the real videos.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgefer.bench import harness
from edgefer.bench.recall import background_photos
from edgefer.bench.suite import PIPELINE_FACES
from edgefer.bench.videos import back_and_forth, camera_pan
from edgefer.data import FaceSet, load_faces
from edgefer.runtime.recognizer import Recognizer
from edgefer.runtime.tracker import iou

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


def videos(test: FaceSet, photo: np.ndarray, frames: int, folder: Path) -> list[Video]:
    """The two synthetic videos (1 and 4 faces on coffee.png) and the two real ones."""
    mosaic = np.vstack([np.hstack([photo, photo[:, ::-1]])] * 2)
    background = background_photos(("coffee.png",))["coffee.png"]
    faces, labels = test.images[PIPELINE_FACES], test.labels[PIPELINE_FACES]
    synthetic = [back_and_forth(faces, labels, background, n, folder / f"synthetic{n}.avi",
                                frames=frames) for n in (1, 4)]
    real = [camera_pan(photo, folder / "real1.avi", focus=(223, 120), frames=frames),
            camera_pan(mosaic, folder / "real4.avi", focus=(512, 512), frames=frames)]
    return ([Video("synthetic", len(v.labels), v.path, v.boxes) for v in synthetic]
            + [Video("real", n, path) for n, path in zip((1, 4), real, strict=True)])


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
           args: argparse.Namespace, load: float) -> harness.Report:
    """The page: every video and N against N=1, and the recommended N."""
    out = harness.Report.start(args.command)
    out.add(f"Load average {load:.1f} at the start (other jobs share the cores: compare "
            "within a video, not across runs). End to end (decode, detect every N frames, "
            "carry boxes, crop, classify, track) on 640x480 MJPG videos at "
            f"{harness.threads_text(args.threads)}; FPS is the median of {args.repeats} "
            "interleaved passes. IoU and agreement compare with detecting every frame (N=1) "
            "on the same frames; truth IoU with the pasted boxes.")
    table = out.add(harness.Table({
        "video": "", "faces": "d", "N": "d", "FPS ort": ".1f", "FPS opencv": ".1f",
        "speed-up (ort)": ".2f", "box IoU vs N=1": ".3f", "labels agree vs N=1": ".3f",
        "truth IoU": ".3f"}))
    worst: dict[str, dict[int, tuple[float, float]]] = {"real": {}, "all": {}}
    for v in vids:
        ref = runs[v.name, v.faces, "ort", 1]
        for n in every:
            r = runs[v.name, v.faces, "ort", n]
            fps = statistics.median(r.fps)
            b = box_iou([[box for box, _ in f] for f in ref.faces], r.faces)
            a = agreement(ref.faces, r.faces)
            table.add(v.name, v.faces, n, fps,
                      statistics.median(runs[v.name, v.faces, "opencv", n].fps),
                      fps / statistics.median(ref.fps), b, a,
                      box_iou(v.truth, r.faces) if v.truth else None)
            for group in {"all", v.name} & set(worst):
                low = worst[group].get(n, (1.0, 1.0))
                worst[group][n] = (min(low[0], b), min(low[1], a))
    real, every_video = largest_n(worst["real"]), largest_n(worst["all"])
    out.figures = {"recommended_n": real, "largest_n_all_videos": every_video}
    out.add(f"Recommended default: N = {real}, the largest N keeping box IoU >= {MIN_IOU} and "
            f"label agreement >= {MIN_AGREE:.0%} against N=1 on both real videos (worst there "
            f"at N = {real}: IoU {worst['real'][real][0]:.3f}, agreement "
            f"{worst['real'][real][1]:.1%}); on all four videos the largest is N = "
            f"{every_video}.")
    return out


def main(argv: list[str] | None = None) -> None:
    ap = harness.parser(__doc__, __file__, "data", "detector", "photo", "threads", "out",
                        threads=2)
    ap.add_argument("--frames", type=harness.positive, default=300, help="frames per video")
    ap.add_argument("--repeats", type=harness.positive, default=3,
                    help="timed passes per setting")
    ap.add_argument("--every", type=harness.positive, nargs="+", default=[1, 2, 3, 5],
                    help="values of N (1 is always run)")
    args = ap.parse(argv)
    every = sorted(set(args.every) | {1})
    test = load_faces(args.data).split("test")
    photo = harness.read_photo(args.photo)
    load = os.getloadavg()[0]
    recognizers = {(e, n): Recognizer(detector=args.detector, threads=args.threads,
                                      detect_every=n, detector_engine=e)
                   for e in ENGINES for n in every}
    with tempfile.TemporaryDirectory() as tmp:
        vids = videos(test, photo, args.frames, Path(tmp))
        runs = {(v.name, v.faces, e, n): Run() for v in vids for e, n in recognizers}
        for _ in range(args.repeats):
            for v in vids:
                for (e, n), recognizer in recognizers.items():
                    run(recognizer, v, runs[v.name, v.faces, e, n])
    harness.publish(report(vids, runs, every, args, load), args.out)


if __name__ == "__main__":
    harness.run(main)
