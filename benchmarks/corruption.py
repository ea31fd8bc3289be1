"""Accuracy under what a camera does to a face: FER2013 faces (the whole --split) passed
through each corruption of `edgefer.corruptions.CORRUPTIONS` (darker and brighter exposure,
half contrast, blur, JPEG, a face captured at 24 and 16 px and upscaled, sensor noise; seeded),
for our model and the peer models of --peers (the `fer` package's mini- and big-Xception),
each through its own preprocessing. --split val to choose (training, augmentation), test to
report. Torch-free.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from edgefer.bench import harness
from edgefer.bench.runners import Candidate, Runner, open_runner, peer_candidates
from edgefer.corruptions import CORRUPTIONS, corrupt
from edgefer.data import load_faces
from edgefer.runtime import EmotionClassifier

CLEAN = "none"


def predict(runner: Runner, faces: np.ndarray) -> np.ndarray:
    """The runner's predicted class of each face (48x48 gray uint8)."""
    x = runner.prepare(faces)
    step = runner.fixed_batch or 256
    return np.concatenate([runner.run(x[i:i + step]) for i in range(0, len(x), step)]).argmax(1)


def main(argv: list[str] | None = None) -> None:
    ap = harness.parser(__doc__, __file__, "data", "model", "threads", "out", threads=1)
    ap.add_argument("--split", default="test", choices=["val", "test"])
    ap.add_argument("--peers", type=Path, default=os.environ.get("EDGEFER_PEERS"),
                    help="directory of the peer models (default: $EDGEFER_PEERS; none: ours only)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the noise")
    args = ap.parse(argv)
    if args.peers is not None and not Path(args.peers).is_dir():
        ap.error(f"peer model directory not found: {args.peers}")
    faces = load_faces(args.data).split(args.split)
    meta = EmotionClassifier(args.model).meta
    ours = Candidate(f"{meta.arch} {meta.precision}", Path(args.model), "auto", "edgefer",
                     meta.precision)
    peers = [c for c in peer_candidates(Path(args.peers)) if c.kind == "xception"] \
        if args.peers else []
    candidates = [ours, *peers]
    runners = {c.name: open_runner(c, args.threads) for c in candidates}
    report = harness.Report.start(args.command)
    report.add(f"All {len(faces):,} FER2013 {args.split} faces; accuracy against the FER2013 "
               f"label (our model: {Path(args.model).name}). Each corruption is applied to "
               f"the 48x48 face before each model's own preprocessing; noise seed {args.seed}.")
    table = report.add(harness.Table({"corruption of the 48x48 face": "",
                                      **{c.name: ".4f" for c in candidates}}))
    accuracy: dict[str, list[float]] = {c.name: [] for c in candidates}
    for name in (CLEAN, *CORRUPTIONS):
        images = faces.images if name == CLEAN else corrupt(faces.images, name, args.seed)
        row = []
        for c in candidates:
            acc = float((predict(runners[c.name], images) == faces.labels).mean())
            row.append(acc)
            if name != CLEAN:
                accuracy[c.name].append(acc)
        print(table.add(name, *row), flush=True)
    table.add(f"mean of the {len(CORRUPTIONS)}", *(np.mean(accuracy[c.name]) for c in candidates))
    table.add("worst", *(min(accuracy[c.name]) for c in candidates))
    report.figures = {"split": args.split, "n": len(faces), "accuracy": accuracy,
                      "corruptions": list(CORRUPTIONS)}
    harness.publish(report, args.out)


if __name__ == "__main__":
    harness.run(main)
