"""Face recall and end-to-end emotion accuracy by face size and detection size.

Usage: python benchmarks/recall.py [--data PATH] [--detector YUNET] [--out benchmarks]
FER2013 PrivateTest faces pasted at 24-256 px onto six real photos (1600x900 scenes, seeded),
detected by YuNet at each detection size and classified by the shipped int8 model. Writes
recall.md (tables, machine) and recall.png (recall vs face size, one line per det size).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from edgefer.atomic import atomic_write, atomic_write_text
from edgefer.bench.recall import BACKGROUNDS, SCENE, make_scenes, measure_recall
from edgefer.data import load_faces, resolve_data
from edgefer.machine import machine_info
from edgefer.plots import pyplot
from edgefer.runtime import EmotionClassifier
from edgefer.runtime.face_detector import FaceDetector
from edgefer.runtime.pipeline import EmotionPipeline

DET_SIZES = (320, 480, 640, 960, 1280, 1600)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None)
    ap.add_argument("--detector", default=None)
    ap.add_argument("--out", type=Path, default=Path("benchmarks"))
    args = ap.parse_args()
    test = load_faces(resolve_data(args.data)).split("test")
    scenes = make_scenes(test)
    pipeline = EmotionPipeline(EmotionClassifier(), FaceDetector(args.detector))
    rows = measure_recall(pipeline, scenes, DET_SIZES)
    sizes = sorted({r.face_size for r in rows})
    info = machine_info()
    n = rows[0].faces
    lines = [f"{len(scenes)} scenes of {SCENE[0]}x{SCENE[1]} ({', '.join(BACKGROUNDS)}), "
             f"{n} FER2013 test faces per face size; `python benchmarks/recall.py` on "
             f"{info['cpu']}, {info['cores']} cores, OpenCV {info['opencv']}.", ""]
    for title, value in (("Recall (faces found)", lambda r: f"{r.recall:.3f}"),
                         ("End-to-end emotion accuracy (missed = wrong)",
                          lambda r: f"{r.accuracy:.3f}")):
        lines += [f"**{title}** by face size (rows, px) and detection size (columns, longer "
                  "side px):", "", "| face | " + " | ".join(map(str, DET_SIZES)) + " |",
                  "|---:|" + "---:|" * len(DET_SIZES)]
        for size in sizes:
            cells = [value(r) for d in DET_SIZES for r in rows
                     if r.det_size == d and r.face_size == size]
            lines.append(f"| {size} | " + " | ".join(cells) + " |")
        lines.append("")
    ms = {d: sum(r.ms_per_scene for r in rows if r.det_size == d) / len(sizes) for d in DET_SIZES}
    lines += ["**Milliseconds per scene** (detect, crop, classify; median over scenes, mean "
              "over face sizes):", "", "| " + " | ".join(map(str, DET_SIZES)) + " |",
              "|" + "---:|" * len(DET_SIZES), "| " + " | ".join(f"{ms[d]:.0f}" for d in
                                                               DET_SIZES) + " |", ""]
    text = "\n".join(lines)
    print(text)
    atomic_write_text(args.out / "recall.md", text)
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=100)
    for d in DET_SIZES:
        ax.plot(sizes, [r.recall for s in sizes for r in rows
                        if r.det_size == d and r.face_size == s], marker="o",
                label=f"det size {d} ({ms[d]:.0f} ms)")
    ax.set_xscale("log")
    ax.minorticks_off()
    ax.set_xticks(sizes, [str(s) for s in sizes])
    ax.set(xlabel="face size in a 1600x900 photo, px", ylabel="recall",
           title="YuNet recall by face size and detection size", ylim=(0, 1.02))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    atomic_write(args.out / "recall.png", lambda tmp: fig.savefig(tmp, format="png"))


if __name__ == "__main__":
    main()
