"""Face recall and end-to-end emotion accuracy by face size and detection size.

Usage: python benchmarks/recall.py [--data PATH] [--detector YUNET] [--repeats 3] [--out benchmarks]
FER2013 PrivateTest faces pasted at 24-768 px onto six real photos (1600x900 scenes, seeded),
detected by YuNet in one pass at each detection size and on the pyramid still images use by
default, then classified by the shipped int8 model; and YuNet's band: the share of test
faces it finds alone on a plain canvas, by face size in its input. Writes recall.md (tables,
machine) and recall.png (recall vs face size, one line per detection size).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from edgefer.atomic import atomic_write, atomic_write_text
from edgefer.bench.recall import BACKGROUNDS, SCENE, make_scenes, measure_band, measure_recall
from edgefer.data import load_faces, resolve_data
from edgefer.machine import machine_info
from edgefer.plots import pyplot
from edgefer.runtime import EmotionClassifier
from edgefer.runtime.face_detector import PYRAMID_CAP, PYRAMID_UPSCALE, FaceDetector, pyramid
from edgefer.runtime.pipeline import EmotionPipeline

DET_SIZES = (320, 640, 1280, 1600, 2400, 3200, None)  # None: the pyramid (image default)
BAND_SIZES = (32, 48, 64, 96, 128, 192, 256, 384, 512, 768)
BAND_FACES = 300


def column(det: int | None) -> str:
    return "pyramid" if det is None else str(det)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None)
    ap.add_argument("--detector", default=None)
    ap.add_argument("--repeats", type=int, default=3, help="scenes per background and size")
    ap.add_argument("--out", type=Path, default=Path("benchmarks"))
    args = ap.parse_args()
    test = load_faces(resolve_data(args.data)).split("test")
    scenes = make_scenes(test, repeats=args.repeats)
    detector = FaceDetector(args.detector, engine="ort", threads=1)
    pipeline = EmotionPipeline(EmotionClassifier(threads=1), detector)
    band = measure_band(detector, test.sample(BAND_FACES, seed=0).images, BAND_SIZES)
    rows = measure_recall(pipeline, scenes, DET_SIZES)
    sizes = sorted({r.face_size for r in rows})
    info = machine_info()
    cols = [column(d) for d in DET_SIZES]
    levels = " + ".join(map(str, pyramid(SCENE[1], SCENE[0])))
    lines = [f"{len(scenes)} scenes of {SCENE[0]}x{SCENE[1]} ({', '.join(BACKGROUNDS)}; "
             f"{args.repeats} per background and face size), up to 4 FER2013 test faces each; "
             f"`python benchmarks/recall.py` on {info['cpu']}, {info['cores']} cores (YuNet on "
             f"onnxruntime, 1 thread), OpenCV {info['opencv']}. Columns: one detection pass "
             f"with the scene scaled to that longer side (1600 = as it is), and the pyramid "
             f"still images get by default (here {levels}: {PYRAMID_UPSCALE:g}x the image up "
             f"to {PYRAMID_CAP}, then a third at a time). A face is found when a detection "
             "lies mostly inside its pasted square; see edgefer/bench/recall.py.", "",
             f"**YuNet's band**: share of {BAND_FACES} FER2013 test faces found alone on a "
             "plain canvas, by face size in the detector's input (px):", "",
             "| " + " | ".join(map(str, BAND_SIZES)) + " |", "|" + "---:|" * len(BAND_SIZES),
             "| " + " | ".join(f"{band[s]:.3f}" for s in BAND_SIZES) + " |", ""]
    for title, value in (("Recall (faces found)", lambda r: f"{r.recall:.3f}"),
                         ("End-to-end emotion accuracy (missed = wrong)",
                          lambda r: f"{r.accuracy:.3f}")):
        lines += [f"**{title}** by face size (rows, px) and detection size (columns):", "",
                  "| face | faces | " + " | ".join(cols) + " |",
                  "|---:|---:|" + "---:|" * len(cols)]
        for size in sizes:
            mine = {r.det_size: r for r in rows if r.face_size == size}
            lines.append(f"| {size} | {mine[None].faces} | "
                         + " | ".join(value(mine[d]) for d in DET_SIZES) + " |")
        lines.append("")
    total = {d: [r for r in rows if r.det_size == d] for d in DET_SIZES}
    ms = {d: sum(r.ms_per_scene for r in rs) / len(rs) for d, rs in total.items()}
    false = {d: sum(r.false for r in rs) / sum(r.scenes for r in rs) for d, rs in total.items()}
    lines += ["**Per scene**: milliseconds (detect, crop, classify, 1 thread; median over "
              "scenes, mean over face sizes) and false detections (not on a pasted face; "
              "the backgrounds hold no faces):", "", "| | " + " | ".join(cols) + " |",
              "|---|" + "---:|" * len(cols),
              "| ms | " + " | ".join(f"{ms[d]:.0f}" for d in DET_SIZES) + " |",
              "| false | " + " | ".join(f"{false[d]:.2f}" for d in DET_SIZES) + " |", ""]
    text = "\n".join(lines)
    print(text)
    atomic_write_text(args.out / "recall.md", text)
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 4.5), dpi=100)
    for d in DET_SIZES:
        ax.plot(sizes, [r.recall for s in sizes for r in total[d] if r.face_size == s],
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
    atomic_write(args.out / "recall.png", lambda tmp: fig.savefig(tmp, format="png"))


if __name__ == "__main__":
    main()
