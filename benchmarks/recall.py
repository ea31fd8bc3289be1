"""Face recall and end-to-end emotion accuracy by face size and detection size.

FER2013 PrivateTest faces (--split val: PublicTest, to choose on) pasted at 24-768 px onto six
real photos (1600x900 scenes, seeded),
detected by YuNet in one pass at each detection size and on the pyramid still images use by
default, then classified by the shipped int8 model; and YuNet's band: the share of test
faces it finds alone on a plain canvas, by face size in its input. Writes STEM.md and
STEM.json (tables, machine) and STEM.png (recall vs face size, one line per detection size).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from edgefer.atomic import atomic_write
from edgefer.bench import harness
from edgefer.bench.recall import (
    BACKGROUNDS,
    SCENE,
    RecallRow,
    make_scenes,
    measure_band,
    measure_recall,
)
from edgefer.data import load_faces
from edgefer.plots import pyplot
from edgefer.runtime import EmotionClassifier
from edgefer.runtime.defaults import DETECT
from edgefer.runtime.face_detector import PYRAMID_CAP, PYRAMID_UPSCALE, FaceDetector, pyramid
from edgefer.runtime.pipeline import EmotionPipeline

DET_SIZES = (320, 640, 1280, 1600, 2400, 3200, None)  # None: the pyramid (image default)
BAND_SIZES = (32, 48, 64, 96, 128, 192, 256, 384, 512, 768)
BAND_FACES = 300


def column(det: int | None) -> str:
    return "pyramid" if det is None else str(det)


def tables(rows: list[RecallRow], band: dict[int, float], n_scenes: int,
           args: argparse.Namespace) -> list[str | harness.Table]:
    """The page's paragraphs and tables: YuNet's band, recall and end-to-end accuracy by face
    and detection size, time and false detections per scene."""
    sizes = sorted({r.face_size for r in rows})
    cols = [column(d) for d in DET_SIZES]
    levels = " + ".join(map(str, pyramid(SCENE[1], SCENE[0])))
    score = "" if args.score == DETECT.score else f" at a score threshold of {args.score:g}"
    out: list[str | harness.Table] = [
        f"{n_scenes} scenes of {SCENE[0]}x{SCENE[1]} ({', '.join(BACKGROUNDS)}; {args.repeats} "
        f"per background and face size), up to 4 FER2013 {args.split} faces each; YuNet on "
        f"onnxruntime{score}, {harness.threads_text(args.threads)}. Columns: one detection "
        f"pass with the scene scaled to that longer side (1600 = as it is), and the pyramid "
        f"still images get by default "
        f"(here {levels}: {PYRAMID_UPSCALE:g}x the image up to {PYRAMID_CAP}, then a third "
        "at a time). A face is found when a detection lies mostly inside its pasted square; "
        "see edgefer/bench/recall.py."]
    band_table = harness.Table({str(s): ".3f" for s in BAND_SIZES},
                               title=f"**YuNet's band**: share of {BAND_FACES} FER2013 "
                                     f"{args.split} faces found alone on a plain canvas, by face "
                                     "size in the detector's input (px):")
    band_table.add(*(band[s] for s in BAND_SIZES))
    out.append(band_table)
    for title, value in (("Recall (faces found)", lambda r: r.recall),
                         ("End-to-end emotion accuracy (missed = wrong)", lambda r: r.accuracy)):
        table = harness.Table({"face": "d", "faces": "d", **{c: ".3f" for c in cols}},
                              title=f"**{title}** by face size (rows, px) and detection size "
                                    "(columns):")
        for size in sizes:
            mine = {r.det_size: r for r in rows if r.face_size == size}
            table.add(size, mine[None].faces, *(value(mine[d]) for d in DET_SIZES))
        out.append(table)
    ms, false = per_scene(rows)
    scene_table = harness.Table({"detection size": "", "ms": ".0f", "false": ".2f"},
                                title="**Per scene**: milliseconds (detect, crop, classify; "
                                      "median over scenes, mean over face sizes) and false "
                                      "detections (not on a pasted face; the backgrounds hold "
                                      "no faces):")
    for d in DET_SIZES:
        scene_table.add(column(d), ms[d], false[d])
    return [*out, scene_table]


def per_scene(rows: list[RecallRow]) -> tuple[dict[int | None, float], dict[int | None, float]]:
    """Milliseconds (mean over face sizes of the median scene) and false detections per
    scene, by detection size."""
    total = {d: [r for r in rows if r.det_size == d] for d in DET_SIZES}
    ms = {d: sum(r.ms_per_scene for r in rs) / len(rs) for d, rs in total.items()}
    false = {d: sum(r.false for r in rs) / sum(r.scenes for r in rs) for d, rs in total.items()}
    return ms, false


def plot(rows: list[RecallRow], path: Path) -> None:
    """Recall against face size, one line per detection size (the pyramid in black)."""
    sizes = sorted({r.face_size for r in rows})
    ms, _ = per_scene(rows)
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 4.5), dpi=100)
    for d in DET_SIZES:
        ax.plot(sizes, [r.recall for s in sizes for r in rows
                        if r.det_size == d and r.face_size == s],
                marker="o", lw=2.5 if d is None else 1.2, color="black" if d is None else None,
                label=f"{column(d)} ({ms[d]:.0f} ms)")
    ax.set_xscale("log")
    ax.minorticks_off()
    ax.set_xticks(sizes, [str(s) for s in sizes])
    ax.set(xlabel=f"face size in a {SCENE[0]}x{SCENE[1]} photo, px", ylabel="recall",
           title="YuNet recall by face size: one pass at each detection size, or the pyramid",
           ylim=(0, 1.02))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, title="detection size", title_fontsize=8)
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png"))
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    ap = harness.parser(__doc__, __file__, "data", "detector", "threads", "out", threads=1)
    ap.add_argument("--repeats", type=harness.positive, default=3,
                    help="scenes per background and face size")
    ap.add_argument("--split", default="test", choices=["val", "test"])
    ap.add_argument("--score", type=float, default=DETECT.score,
                    help="face detection score threshold")
    args = ap.parse(argv)
    test = load_faces(args.data).split(args.split)
    scenes = make_scenes(test, repeats=args.repeats)
    detector = FaceDetector(args.detector, args.score, engine="ort", threads=args.threads)
    pipeline = EmotionPipeline(EmotionClassifier(threads=args.threads), detector)
    band = measure_band(detector, test.sample(BAND_FACES, seed=0).images, BAND_SIZES)
    rows = measure_recall(pipeline, scenes, DET_SIZES)
    report = harness.Report.start(args.command)
    for block in tables(rows, band, len(scenes), args):
        report.add(block)
    report.figures = {"rows": [{**vars(r), "recall": r.recall, "accuracy": r.accuracy}
                               for r in rows], "band": {str(s): v for s, v in band.items()}}
    harness.publish(report, args.out)
    png = harness.output_paths(args.out, ".png")[2]
    plot(rows, png)
    print(f"wrote {png}")


if __name__ == "__main__":
    harness.run(main)
