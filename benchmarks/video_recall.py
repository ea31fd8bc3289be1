"""Video recall: per-face recall by face size, frames per second and track id switches on
seeded videos of FER2013 test faces moving over real photos, for the video defaults against
detecting every frame at 320 px (the former video path) and its every-5th-frame default.

Usage: python benchmarks/video_recall.py [--data PATH] [--frames 150] [--repeats 3]
           [--sizes 48 64 96 128 200] [--faces 1 4 8] [--videos 3]
           [--frame-sizes 640x480 1280x720] [--settings ...] [--out benchmarks/video_recall]
Videos: --videos seeds (other faces, places, speeds and background) for each face size and
face count that fits a frame size (faces move 1-3 px a frame in their own cells), 30 FPS
MJPG, backgrounds taken in turn from scikit-image's photos. Each
setting runs every video --repeats times, the settings taking turns; FPS is the best pass
(decode, detection, tracking, classification at 2 threads). Writes OUT.md and OUT.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from edgefer.atomic import atomic_write_text
from edgefer.bench.recall import BACKGROUNDS, background_photos
from edgefer.bench.video_recall import VideoScore, score_video
from edgefer.bench.videos import grid, moving_faces
from edgefer.data import load_faces, resolve_data
from edgefer.machine import machine_info, machine_line
from edgefer.runtime.recognizer import Recognizer

# what each setting passes to Recognizer (threads=2 for all): the former video path
# (320 px, no coasting) detecting every frame and every 5th frame, today's defaults, and
# the candidates the defaults were chosen from (--settings to run them)
OLD = {"det_size": 320, "min_face": 24, "keep": 0}
SETTINGS = {
    "every frame @320": {**OLD, "detect_every": 1},
    "every 5th @320": {**OLD, "detect_every": 5},
    "default": {},
    **{f"@{d} keep {k} every {n}": {"det_size": d, "keep": k, "detect_every": n}
       for d in (640, 864) for k in (0, 2) for n in (5, 8)},
}
DEFAULT_SETTINGS = ["every frame @320", "every 5th @320", "default"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path)
    ap.add_argument("--frames", type=int, default=150)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--sizes", type=int, nargs="+", default=[48, 64, 96, 128, 200])
    ap.add_argument("--faces", type=int, nargs="+", default=[1, 4, 8])
    ap.add_argument("--videos", type=int, default=3, help="seeds per face size and count")
    ap.add_argument("--frame-sizes", nargs="+", default=["640x480", "1280x720"])
    ap.add_argument("--settings", nargs="+", default=DEFAULT_SETTINGS, choices=list(SETTINGS))
    ap.add_argument("--out", type=Path, default=Path("benchmarks/video_recall"))
    args = ap.parse_args()
    test = load_faces(resolve_data(args.data)).split("test")
    photos = background_photos()
    recognizers = {s: Recognizer(threads=2, **SETTINGS[s]) for s in args.settings}
    scores: list[VideoScore] = []
    with tempfile.TemporaryDirectory() as tmp:
        videos = []
        for fs in args.frame_sizes:
            size = tuple(int(v) for v in fs.split("x"))
            for n in args.faces:
                for side in args.sizes:
                    if grid(size, n, side) is None:
                        continue
                    for _ in range(args.videos):
                        k = len(videos)
                        bg = photos[BACKGROUNDS[k % len(BACKGROUNDS)]]
                        path = Path(tmp) / f"{fs}-{n}x{side}-{k}.avi"
                        videos.append(moving_faces(test.images, test.labels, bg, n, side,
                                                   path, size=size, frames=args.frames,
                                                   seed=k))
        for video in videos:
            mine = {s: VideoScore(s, video.path.stem, video.size, len(video.labels),
                                  video.face_side) for s in args.settings}
            for _ in range(args.repeats):
                for s in args.settings:
                    score_video(recognizers[s], video, mine[s])
            scores.extend(mine.values())
            print(" | ".join(f"{video.path.stem} {s}: recall {v.recall:.3f} {v.fps:.0f} FPS"
                             for s, v in mine.items()), flush=True)
    info = machine_info()
    atomic_write_text(args.out.with_suffix(".json"), json.dumps(
        {"machine": info, "settings": {s: SETTINGS[s] for s in args.settings},
         "scores": [{**vars(v), "recall": v.recall, "fps": v.fps} for v in scores]},
        indent=1) + "\n")
    atomic_write_text(args.out.with_suffix(".md"), report(scores, args, machine_line(info)))


def report(scores: list[VideoScore], args: argparse.Namespace, machine: str) -> str:
    """Markdown: recall by face size per frame size and setting; FPS and id switches."""
    cmd = " ".join(["python benchmarks/video_recall.py", *sys.argv[1:]])
    lines = [f"`{cmd}` on {machine}.", "",
             f"Seeded {args.frames}-frame videos of FER2013 test faces moving over real "
             "photos; a face is found in a frame when a reported face lies mostly inside its "
             "true box. FPS: end to end at 2 threads, the best of "
             f"{args.repeats} interleaved passes.", ""]
    settings = list(dict.fromkeys(v.setting for v in scores))
    for fs in args.frame_sizes:
        size = tuple(int(v) for v in fs.split("x"))
        mine = [v for v in scores if v.size == size]
        sides = sorted({v.face_side for v in mine})
        lines += [f"**Recall by face size, {fs}** (all face counts pooled)", "",
                  "| setting | " + " | ".join(f"{s} px" for s in sides) + " |",
                  "|---|" + "---:|" * len(sides)]
        for s in settings:
            cells = []
            for side in sides:
                rows = [v for v in mine if v.setting == s and v.face_side == side]
                cells.append(f"{sum(v.found for v in rows) / sum(v.total for v in rows):.3f}")
            lines.append(f"| {s} | " + " | ".join(cells) + " |")
        lines += ["", f"**FPS and id switches, {fs}** (per face count, all face sizes and videos)",
                  "",
                  "| setting | faces | FPS (mean over videos) | x every frame @320 | "
                  "id switches | false per frame |", "|---|---:|---:|---:|---:|---:|"]
        for n in sorted({v.faces for v in mine}):
            base = [v for v in mine if v.faces == n and v.setting == settings[0]]
            base_fps = sum(v.fps for v in base) / len(base)
            for s in settings:
                rows = [v for v in mine if v.faces == n and v.setting == s]
                fps = sum(v.fps for v in rows) / len(rows)
                false = sum(v.false for v in rows) / sum(v.frames for v in rows)
                lines.append(f"| {s} | {n} | {fps:.1f} | {fps / base_fps:.2f} | "
                             f"{sum(v.id_switches for v in rows)} | {false:.3f} |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
