"""Whether students trained from one start average into a better model (a model soup,
Wortsman et al., ICML 2022): each fp32 file's val accuracy, the uniform average of their
weights, and the greedy soup (files added best first, each kept while val accuracy does not
drop). Weights are averaged as exported, BatchNorm folded into each convolution, so the files
must share one architecture. By default the `edge` students kept in recipes/teachers/, all
grown from `edge-kd.onnx`. Choose on val. Needs the `onnx` package (the train extra).
"""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

from edgefer.bench import harness
from edgefer.data import load_faces
from edgefer.errors import EdgeferError
from edgefer.runtime import EmotionClassifier

ROOT = Path(__file__).resolve().parent.parent
STUDENTS = [ROOT / "recipes" / "teachers" / f"edge-{name}.onnx"
            for name in ("kd", "ens20", "ens40", "trio40")]


def named(path: Path) -> str:
    """A file's name in the report: its path from the repository root where it lies inside."""
    path = path.resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


@cache
def weights_of(path: Path) -> dict[str, np.ndarray]:
    """A file's weights by name, read once however many averages it joins."""
    return {w.name: numpy_helper.to_array(w) for w in onnx.load(str(path)).graph.initializer}


def averaged(paths: list[Path], out: Path) -> Path:
    """Write the first file with every weight replaced by the mean over `paths`."""
    weights = [weights_of(p) for p in paths]
    for path, w in zip(paths[1:], weights[1:], strict=True):
        if {k: v.shape for k, v in w.items()} != {k: v.shape for k, v in weights[0].items()}:
            raise EdgeferError(f"{path}: its weights differ in name or shape from {paths[0]}'s")
    soup = onnx.load(str(paths[0]))
    for init in soup.graph.initializer:
        mean = np.mean([w[init.name] for w in weights], axis=0).astype(weights[0][init.name].dtype)
        init.CopyFrom(numpy_helper.from_array(mean, init.name))
    onnx.save(soup, str(out))
    return out


def main(argv: list[str] | None = None) -> None:
    ap = harness.parser(__doc__, __file__, "data", "out")
    ap.add_argument("models", nargs="*", type=Path, default=STUDENTS,
                    help="fp32 .onnx files of one architecture (default: the kept students)")
    args = ap.parse(argv)
    val = load_faces(args.data).split("val")

    def accuracy(path: Path) -> float:
        return float((EmotionClassifier(path).predict_probs(val.images).argmax(1)
                      == val.labels).mean())

    report = harness.Report.start(args.command)
    report.add(f"All {len(val):,} FER2013 val faces; accuracy of each fp32 file, of their "
               "weights averaged, and of the greedy soup.")
    table = report.add(harness.Table({"model": "", "val accuracy": ".4f"}))
    alone = {p: accuracy(p) for p in args.models}
    for path, acc in alone.items():
        print(table.add(named(path), acc), flush=True)
    order = sorted(alone, key=alone.get, reverse=True)
    with tempfile.TemporaryDirectory() as tmp:
        uniform = accuracy(averaged(order, Path(tmp) / "uniform.onnx"))
        print(table.add(f"uniform average of the {len(order)}", uniform), flush=True)
        kept, best = order[:1], alone[order[0]]
        for path in order[1:]:
            acc = accuracy(averaged([*kept, path], Path(tmp) / "greedy.onnx"))
            if acc >= best:
                kept, best = [*kept, path], acc
    print(table.add(f"greedy soup: {' + '.join(map(named, kept))}", best), flush=True)
    report.figures = {"alone": {named(p): a for p, a in alone.items()}, "uniform": uniform,
                      "greedy": {"members": [named(p) for p in kept], "accuracy": best}}
    harness.publish(report, args.out)


if __name__ == "__main__":
    harness.run(main)
