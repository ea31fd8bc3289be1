"""How good a distillation target is, before a student trains on it: the accuracy of the
teachers' averaged, tempered targets (`edgefer.train.distill`, as `edgefer train --teacher`
computes them) on a split's faces, alone and with FER+'s vote shares at each
`--teacher-votes` weight. Choose the weight on val. On Training (`--split train`), the faces
the student learns from, teachers that trained on them have learned their labels; cross-fitted
teachers (`edgefer train --folds`) each score the fold they never saw. Needs torch and
`fer2013new.csv` beside the data.
"""

from __future__ import annotations

from pathlib import Path

import torch

from edgefer.bench import harness
from edgefer.data import EMOTIONS, load_faces
from edgefer.data.ferplus import vote_shares
from edgefer.preprocess import Preprocess
from edgefer.train.config import TrainConfig
from edgefer.train.distill import Teacher, with_votes

TEACHERS = ("recipes/teachers/edge-kd.onnx,recipes/teachers/edge-l-100.onnx,"
            "recipes/teachers/edge-ens40.onnx")  # recipes/steps.sh trio40's


def main(argv: list[str] | None = None) -> None:
    ap = harness.parser(__doc__, __file__, "data", "out")
    ap.add_argument("--teacher", default=TEACHERS,
                    help="comma-separated teacher models (default: the trio40 arm's three)")
    ap.add_argument("--weights", type=float, nargs="+",
                    default=[0, 0.05, 0.075, 0.1, 0.125, 0.15, 0.2, 0.3],
                    help="--teacher-votes weights to score")
    ap.add_argument("--split", default="val", choices=["train", "val", "test"])
    ap.add_argument("--kd-temperature", type=float, default=TrainConfig.kd_temperature)
    ap.add_argument("--teacher-flip", action="store_true")
    args = ap.parse(argv)
    faces = load_faces(args.data).split(args.split)
    spec = Preprocess()
    teacher = Teacher(args.teacher.split(","), spec, list(EMOTIONS), torch.device("cpu"),
                      args.teacher_flip)
    folds = torch.from_numpy(faces.folds(teacher.folds)) if teacher.folds else None
    with torch.no_grad():
        targets = torch.cat([teacher.soft_targets(
            torch.from_numpy(spec(faces.images[i:i + 512])), args.kd_temperature,
            None if folds is None else folds[i:i + 512]) for i in range(0, len(faces), 512)])
    shares = torch.from_numpy(vote_shares(faces, Path(args.data)))
    report = harness.Report.start(args.command, torch=True)
    crossfit = "" if folds is None else (f"; cross-fitted in {teacher.folds} folds of Training, "
                                         "each face scored by its fold's teachers, as in training")
    report.add(f"All {len(faces):,} FER2013 {args.split} faces; accuracy of the targets' most "
               f"likely class against the FER2013 label. Teachers: {args.teacher} (averaged"
               f"{', over each face and its mirror' if args.teacher_flip else ''}), tempered at "
               f"T = {args.kd_temperature:g}{crossfit}; the FER+ vote shares join them at each "
               f"weight. "
               f"FER+'s own majority agrees with the label on "
               f"{(shares.argmax(1).numpy() == faces.labels).mean():.2%} of these faces.")
    table = report.add(harness.Table({"--teacher-votes": ".3g", "targets' accuracy": ".4f"}))
    accuracy = {}
    for w in args.weights:
        mixed = with_votes(targets, shares, w, args.kd_temperature)
        accuracy[f"{w:g}"] = float((mixed.argmax(1).numpy() == faces.labels).mean())
        print(table.add(w, accuracy[f"{w:g}"]), flush=True)
    report.figures = {"split": args.split, "n": len(faces), "accuracy": accuracy}
    harness.publish(report, args.out)


if __name__ == "__main__":
    harness.run(main)
