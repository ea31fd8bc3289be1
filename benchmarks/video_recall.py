"""Video recall: per-face recall by face size, frames per second and track id switches on
seeded videos of FER2013 faces moving over real photos, for the video defaults against
the former video path (every frame's whole image detected at 320 px and classified), and
the candidates the defaults were chosen from (--settings).

Videos: --videos seeds (other faces, places, speeds and background) for each face size and
face count that fits a frame size (faces move 1-3 px a frame in their own cells), 30 FPS
MJPG, backgrounds taken in turn from scikit-image's photos; the faces from --split (val to
choose a setting, test to report). Each
setting runs every video --repeats times, the settings taking turns; FPS is the best pass
(decode, detection, tracking, classification, at --threads).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from edgefer.bench import harness
from edgefer.bench.recall import BACKGROUNDS, background_photos, found_alone
from edgefer.bench.video_recall import Run, VideoScore, every_frame, score_video
from edgefer.bench.videos import TruthVideo, grid, moving_faces
from edgefer.data import FaceSet, load_faces
from edgefer.runtime import recognizer, regions, sources
from edgefer.runtime.face_detector import FaceDetector
from edgefer.runtime.recognizer import Recognizer

REFERENCE = "every frame @320"  # edgefer.bench.video_recall.every_frame
# a setting ending so runs on the video's frames decoded beforehand, handed over as an
# iterator (as from a camera whose frames need no decoding, e.g. picamera2)
IN_MEMORY = ", frames in memory"
# what each setting passes to Recognizer, or (upper case) sets in edgefer.runtime.regions,
# .recognizer or .sources
SETTINGS = {
    REFERENCE: {},
    "default": {},
    # decoding in turn with the rest, as both paths ran before read-ahead
    f"{REFERENCE}, no read-ahead": {"READ_AHEAD": 0},
    "default, no read-ahead": {"READ_AHEAD": 0},
    f"{REFERENCE}{IN_MEMORY}": {},
    f"default{IN_MEMORY}": {},
    "search every 8": {"search_every": 8},
    "detect every 6": {"detect_every": 6},
    "cells 192, region 1.5": {"CELL": 192, "REGION": 1.5},
    "cells 256": {"CELL": 256},
    "region 2.0": {"REGION": 2.0},
    "refind at the threshold": {"REFIND": 1.0},
    # new faces at the full threshold, in searches and until found twice
    "search at the threshold": {"SEARCH": 1.0},
    "cells 192, region 1.37": {"CELL": 192, "REGION": 1.37},
    # no box reaches 4096 px in a search's input (at most 1280 px): every cell kept
    "search rounds keep every cell": {"SEARCHED_PX": 4096},
    "pyramid again every 4th search": {"PYRAMID_EVERY": 4},
    "first search from 96 px": {"SEARCH_FACE_PX": 96},
    "first search from 160 px": {"SEARCH_FACE_PX": 160},
    "score 0.75": {"score": 0.75},
    "min face 64": {"min_face": 64},
    # the detector's ceiling: the whole frame at 1280 px (2x a 640x480 frame) on every frame
    "@1280 every frame": {"det_size": 1280, "detect_every": 1, "search_every": 1, "keep": 0},
}
POOLED = 64  # px: the face sizes the target pools (a camera 2-3 m from a face)
INPUTS = (IN_MEMORY, ", no read-ahead")  # the ways frames arrive, besides read-ahead decoding
DEFAULT_SETTINGS = [REFERENCE, "default", f"{REFERENCE}{IN_MEMORY}", f"default{IN_MEMORY}"]


@contextlib.contextmanager
def geometry(setting: str) -> Iterator[None]:
    """The module constants `setting` changes, for the duration."""
    changes = {k: v for k, v in SETTINGS[setting].items() if k.isupper()}
    modules = {k: next(m for m in (regions, recognizer, sources) if hasattr(m, k))
               for k in changes}
    saved = {k: getattr(modules[k], k) for k in changes}
    for k, v in changes.items():
        setattr(modules[k], k, v)
    try:
        yield
    finally:
        for k, v in saved.items():
            setattr(modules[k], k, v)


def runner(setting: str, args: argparse.Namespace) -> Run:
    """What `score_video` runs for `setting`."""
    kwargs = {k: v for k, v in SETTINGS[setting].items() if not k.isupper()}
    r = Recognizer(detector=args.detector, threads=args.threads, **kwargs)
    run = every_frame(r) if setting.startswith(REFERENCE) else r.stream
    return in_memory(run) if setting.endswith(IN_MEMORY) else run


def in_memory(run: Run) -> Run:
    """`run` on the video's frames decoded before it starts."""
    return lambda path: run(iter(decoded(path)))


@functools.lru_cache(maxsize=1)  # the settings take turns on one video at a time
def decoded(path: Path) -> tuple[np.ndarray, ...]:
    """A video's frames, decoded once for every setting that runs from memory."""
    return tuple(f.image for f in sources.FrameSource(str(path)))


def frame_size(text: str) -> tuple[int, int]:
    """An argparse type: WIDTHxHEIGHT."""
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not WIDTHxHEIGHT: {text!r}") from None
    return w, h


def videos(test: FaceSet, args: argparse.Namespace, folder: Path) -> list[TruthVideo]:
    """--videos seeded videos per frame size, face count and face size that fit."""
    photos = background_photos()
    out: list[TruthVideo] = []
    for size in args.frame_sizes:
        for n in args.faces:
            for side in args.sizes:
                if grid(size, n, side) is None:
                    continue
                for _ in range(args.videos):
                    k = len(out)
                    path = folder / f"{size[0]}x{size[1]}-{n}x{side}-{k}.avi"
                    out.append(moving_faces(test.images, test.labels,
                                            photos[BACKGROUNDS[k % len(BACKGROUNDS)]], n, side,
                                            path, size=size, frames=args.frames, seed=k))
    return out


def main(argv: list[str] | None = None) -> None:
    ap = harness.parser(__doc__, __file__, "data", "detector", "threads", "out", threads=2)
    ap.add_argument("--split", default="test", choices=["val", "test"])
    ap.add_argument("--frames", type=harness.positive, default=150)
    ap.add_argument("--repeats", type=harness.positive, default=3)
    ap.add_argument("--sizes", type=harness.positive, nargs="+", default=[48, 64, 96, 128, 200],
                    help="face sides, px")
    ap.add_argument("--faces", type=harness.positive, nargs="+", default=[1, 4, 8])
    ap.add_argument("--videos", type=harness.positive, default=3,
                    help="seeds per face size and count")
    ap.add_argument("--frame-sizes", type=frame_size, nargs="+",
                    default=[(640, 480), (1280, 720)], help="WIDTHxHEIGHT")
    ap.add_argument("--settings", nargs="+", default=DEFAULT_SETTINGS, choices=list(SETTINGS))
    args = ap.parse(argv)
    test = load_faces(args.data).split(args.split)
    runs = {s: runner(s, args) for s in args.settings}
    detector = FaceDetector(args.detector, threads=args.threads)
    scores: list[VideoScore] = []
    with tempfile.TemporaryDirectory() as tmp:
        vids = videos(test, args, Path(tmp))
        if not vids:
            ap.error("no video: none of --faces fits a frame at any of --sizes")
        for video in vids:
            alone = [found_alone(detector, test.images[k], video.face_side) for k in video.picks]
            mine = {s: VideoScore(s, video.path.stem, video.size, len(video.labels),
                                  video.face_side, alone=alone) for s in args.settings}
            for _ in range(args.repeats):
                for s in args.settings:
                    with geometry(s):
                        score_video(runs[s], video, mine[s])
            scores.extend(mine.values())
            print(" | ".join(f"{video.path.stem} {s}: recall {v.recall:.3f} {v.fps:.0f} FPS"
                             for s, v in mine.items()), flush=True)
    harness.publish(report(scores, args), args.out)


def report(scores: list[VideoScore], args: argparse.Namespace) -> harness.Report:
    """Recall by face size per frame size and setting; FPS and id switches."""
    out = harness.Report.start(args.command)
    out.figures = {"split": args.split, "settings": {s: SETTINGS[s] for s in args.settings},
                   "scores": [{**vars(v), "recall": v.recall, "fps": v.fps,
                                "steady_fps": v.steady_fps, "first_ms": v.first_ms}
                               for v in scores]}
    out.add(f"Seeded {args.frames}-frame videos of FER2013 {args.split} faces moving over real "
            "photos; a face is found in a frame when a reported face lies mostly inside its "
            "true box. "
            f"FPS: end to end at {harness.threads_text(args.threads)}, the best of {args.repeats} "
            "interleaved passes; steady FPS leaves out the first frame, whose detection round "
            "searches the pyramid once per video: the rate a running camera keeps; first "
            "frame: that frame's milliseconds (fastest pass), the stall when a stream starts.")
    settings = list(dict.fromkeys(v.setting for v in scores))
    for size in args.frame_sizes:
        fs = f"{size[0]}x{size[1]}"
        mine = [v for v in scores if v.size == size]
        if not mine:
            continue
        sides = sorted({v.face_side for v in mine})
        table = out.add(harness.Table(
            {"setting": "", **{f"{s} px": ".3f" for s in sides}, f"{POOLED} px and more": ".3f"},
            title=f"**Recall by face size, {fs}** (all face counts pooled)"))
        for s in settings:
            groups = [[v for v in mine if v.setting == s and v.face_side == side]
                      for side in sides]
            groups.append([v for v in mine if v.setting == s and v.face_side >= POOLED])
            table.add(s, *(sum(v.found for v in rows) / sum(v.total for v in rows)
                           if rows else float("nan") for rows in groups))
        ref = [v for v in mine if v.setting == settings[0]]
        counts = [(sum(sum(v.alone) for v in ref if v.face_side == side),
                   sum(v.faces for v in ref if v.face_side == side)) for side in sides]
        table = out.add(harness.Table(
            {"setting": "", **{f"{s} px": ".3f" for s in sides}},
            title=f"**Recall by face size, {fs}, of the faces YuNet finds alone** (pasted "
                  "alone at that size on a plain canvas: "
                  + ", ".join(f"{k} of {n} at {s} px" for (k, n), s in zip(counts, sides,
                                                                         strict=True))
                  + "; the others measure the detector on that crop, not the video path)"))
        for s in settings:
            table.add(s, *(_alone_recall([v for v in mine if v.setting == s
                                          and v.face_side == side]) for side in sides))
        table = out.add(harness.Table(
            {"setting": "", "faces": "d", "FPS (mean over videos)": ".1f",
             f"x {REFERENCE}, same input": ".2f", "steady FPS": ".1f", "steady x": ".2f",
             "first frame ms": ".0f", "id switches": "d", "false per frame": ".3f"},
            title=f"**FPS and id switches, {fs}** (per face count, all face sizes and videos)"))
        for n in sorted({v.faces for v in mine}):
            for s in settings:
                rows = [v for v in mine if v.faces == n and v.setting == s]
                fps, steady = _mean_fps(rows)
                base_fps, base_steady = _mean_fps([v for v in mine if v.faces == n
                                                   and v.setting == _base(s, settings)])
                table.add(s, n, fps, fps / base_fps, steady, steady / base_steady,
                          sum(v.first_ms for v in rows) / len(rows),
                          sum(v.id_switches for v in rows),
                          sum(v.false for v in rows) / sum(v.frames for v in rows))
    return out


def _mean_fps(scores: list[VideoScore]) -> tuple[float, float]:
    """Mean FPS and steady FPS over videos."""
    return (sum(v.fps for v in scores) / len(scores),
            sum(v.steady_fps for v in scores) / len(scores))


def _base(setting: str, settings: list[str]) -> str:
    """The setting `setting`'s speed is compared with: the first one run, or the reference
    (when run) fed its frames the same way."""
    same = REFERENCE + next((k for k in INPUTS if setting.endswith(k)), "")
    return same if same in settings else settings[0]


def _alone_recall(scores: list[VideoScore]) -> float:
    """Recall pooled over the faces found alone (nan when there is none)."""
    found = sum(n for v in scores for n, ok in zip(v.found_per_face, v.alone, strict=True) if ok)
    total = sum(v.frames * sum(v.alone) for v in scores)
    return found / total if total else float("nan")


if __name__ == "__main__":
    harness.run(main)
