#!/usr/bin/env bash
# Issue 14's distillation A/B, after `recipes/shipped.sh edge`: the student's twin, trained
# the same way (the 80-epoch teacher's weights, 20 epochs, same seed and options) on the
# labels alone, so the gain of the teachers is the val difference of runs/edge-kd and
# runs/edge-ft. Then every model's val accuracy: teachers, their ensemble, both students.
# Resumable: re-run the script after a kill and it continues where it stopped.
set -euo pipefail
: "${EDGEFER_DATA:?set EDGEFER_DATA to FER2013 (csv, npz or image folders)}"
run=runs/edge-ft
if [ -f "$run/last.pt" ]; then
  edgefer train --resume "$run"
else
  edgefer train --model edge --epochs 20 --batch-size 128 --optimizer adamw --lr 5e-4 \
    --weight-decay 0.05 --scheduler cosine --label-smoothing 0.1 --augment default --seed 1 \
    --init runs/edge-80/export/model.onnx --out "$run"
fi
t80=runs/edge-80/export/model.onnx t45=runs/edge-45/export/model.onnx
for models in "$t80" "$t45" "$t80 $t45" runs/edge-kd "$run"; do
  # shellcheck disable=SC2086  # a model list
  edgefer evaluate $models --split val
done
