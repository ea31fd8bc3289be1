"""Compare the aarch64 (emulated) and x86 runs written by run.sh; exit 1 if they disagree.

Passes when top-1 agreement on the test faces is at least --min-agreement and the photo gets
the same faces and emotions on both architectures.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import numpy as np


def read_predictions(path: Path) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Rows, predicted labels and probabilities from `edgefer evaluate --predictions`."""
    with open(path, newline="") as f:
        records = list(csv.reader(f))
    rows = [r[0] for r in records[1:]]
    preds = np.array([r[2] for r in records[1:]])
    probs = np.array([[float(v) for v in r[3:]] for r in records[1:]])
    return rows, preds, probs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path, help="run.sh's output directory")
    parser.add_argument("--min-agreement", type=float, default=0.99)
    args = parser.parse_args()

    rows_a, pred_a, prob_a = read_predictions(args.out / "test.aarch64.csv")
    rows_x, pred_x, prob_x = read_predictions(args.out / "test.x86_64.csv")
    assert rows_a == rows_x, "the two runs saw different faces"
    agree = float((pred_a == pred_x).mean())
    diff = np.abs(prob_a - prob_x).max(1)
    print(f"test faces: {len(rows_a)}, top-1 agreement {agree:.2%}, "
          f"max |prob diff| {diff.max():.6f}, mean {diff.mean():.6f}")
    for i in np.flatnonzero(pred_a != pred_x):
        print(f"  row {rows_a[i]}: aarch64 {pred_a[i]} ({prob_a[i].max():.3f}) vs "
              f"x86 {pred_x[i]} ({prob_x[i].max():.3f})")

    det_a = json.loads((args.out / "detect.aarch64.json").read_text())
    det_x = json.loads((args.out / "detect.x86_64.json").read_text())
    same_photo = [(f["box"], f["emotion"]) for f in det_a["faces"]] == \
                 [(f["box"], f["emotion"]) for f in det_x["faces"]]
    photo_diff = max((abs(fa["probs"][k] - fx["probs"][k])
                      for fa, fx in zip(det_a["faces"], det_x["faces"], strict=False)
                      for k in fa["probs"]), default=0.0)
    for arch, det in (("aarch64", det_a), ("x86_64", det_x)):
        faces = ", ".join(f"{f['emotion']} {f['confidence']:.4f} at {f['box']}"
                          for f in det["faces"])
        print(f"photo {arch}: {faces or 'no faces'}")
    print(f"photo: same boxes and emotions: {same_photo}, max |prob diff| {photo_diff:.4f}")

    summary = {"faces": len(rows_a), "agreement": agree, "max_prob_diff": float(diff.max()),
               "photo_same": same_photo, "photo_max_prob_diff": photo_diff}
    (args.out / "compare.json").write_text(json.dumps(summary, indent=2) + "\n")
    ok = agree >= args.min_agreement and same_photo
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
