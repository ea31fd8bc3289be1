"""Which teachers make the best distillation target together: every set of the given
models (by default the fp32 files kept in recipes/teachers/), ranked by the accuracy of
their averaged, tempered targets (`edgefer.train.distill`, as `edgefer train --teacher`
computes them) on a split's faces, with the targets' cross-entropy against the label at
T = 1 beside it. Choose on val. Needs torch.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import torch

from edgefer.bench import harness
from edgefer.data import EMOTIONS, load_faces
from edgefer.preprocess import Preprocess
from edgefer.train.config import TrainConfig
from edgefer.train.distill import Teacher

KEPT = Path(__file__).resolve().parent.parent / "recipes" / "teachers"


def member_targets(path: Path, x: torch.Tensor, temperature: float) -> np.ndarray:
    """One model's tempered probabilities on the normalised faces `x`: (N, classes)."""
    teacher = Teacher([str(path)], Preprocess(), list(EMOTIONS), torch.device("cpu"))
    return torch.cat([teacher.soft_targets(x[i:i + 512], temperature)
                      for i in range(0, len(x), 512)]).numpy()


def untempered(targets: np.ndarray, temperature: float) -> np.ndarray:
    """The T = 1 probabilities behind targets tempered at `temperature` (softmax(log p / T)
    raised back to the power T and renormalised)."""
    z = temperature * np.log(targets)
    p = np.exp(z - z.max(1, keepdims=True))
    return p / p.sum(1, keepdims=True)


def main(argv: list[str] | None = None) -> None:
    ap = harness.parser(__doc__, __file__, "data", "out")
    ap.add_argument("--teacher", type=Path, nargs="+",
                    default=sorted(KEPT.glob("*.onnx")),
                    help="candidate teachers (default: every .onnx in recipes/teachers/)")
    ap.add_argument("--split", default="val", choices=["val", "test"])
    ap.add_argument("--kd-temperature", type=float, default=TrainConfig.kd_temperature)
    ap.add_argument("--top", type=harness.positive, default=15, help="sets to list")
    args = ap.parse(argv)
    faces = load_faces(args.data).split(args.split)
    x = torch.from_numpy(Preprocess()(faces.images))
    names = [p.stem for p in args.teacher]
    tempered, plain = {}, {}
    for n, p in zip(names, args.teacher, strict=True):
        tempered[n] = member_targets(p, x, args.kd_temperature)
        plain[n] = untempered(tempered[n], args.kd_temperature)
        print(f"{n}: targets' accuracy {(tempered[n].argmax(1) == faces.labels).mean():.4f}",
              flush=True)
    rows = np.arange(len(faces))
    scored = []
    for k in range(1, len(names) + 1):
        for team in itertools.combinations(names, k):
            targets = np.mean([tempered[n] for n in team], axis=0)
            probs = np.mean([plain[n] for n in team], axis=0)
            scored.append((float((targets.argmax(1) == faces.labels).mean()),
                           float(-np.log(np.maximum(probs[rows, faces.labels], 1e-8)).mean()),
                           team))
    scored.sort(key=lambda s: (-s[0], s[1]))
    report = harness.Report.start(args.command, torch=True)
    report.add(f"All {len(faces):,} FER2013 {args.split} faces; each set's teachers averaged "
               f"as `edgefer train --teacher` does, tempered at T = {args.kd_temperature:g}: "
               f"the accuracy of the targets' most likely class against the FER2013 label, "
               f"and the cross-entropy of the averaged T = 1 probabilities (lower is better). "
               f"The best {args.top} of {len(scored)} sets, then each teacher alone.")
    table = report.add(harness.Table({"teachers": "s", "targets' accuracy": ".4f",
                                      "cross-entropy": ".4f"}))
    alone = [s for s in scored if len(s[2]) == 1]
    for acc, ce, team in scored[:args.top] + alone:
        print(table.add(" + ".join(team), acc, ce), flush=True)
    report.figures = {"split": args.split, "n": len(faces), "sets": [
        {"teachers": list(team), "accuracy": acc, "cross_entropy": ce}
        for acc, ce, team in scored]}
    harness.publish(report, args.out)


if __name__ == "__main__":
    harness.run(main)
