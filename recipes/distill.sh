#!/usr/bin/env bash
# Issue 14's distillation step: an `edge` student distilled from the shipped `edge` (its fp32
# ONNX file, the teacher), beside the shipped model itself, which is the same recipe trained on
# the labels alone (recipes/shipped.sh edge: same epochs, same seed), so the gain of
# distillation is the val difference. Measured when the shipped `edge` was the 45-epoch run
# (README, Distillation): 45 epochs of 165-192 s on a 2-core AMD EPYC in fp32 (2 h 13 min;
# the plain twin took 114-148 s an epoch there: the teacher runs on every batch).
# Resumable: re-run the script after a kill and it continues where it stopped.
set -euo pipefail
: "${EDGEFER_DATA:?set EDGEFER_DATA to FER2013 (csv, npz or image folders)}"
run=runs/student-edge-kd
if [ -f "$run/last.pt" ]; then
  edgefer train --resume "$run"
else
  edgefer train --model edge --epochs 80 --batch-size 128 --optimizer adamw --lr 2e-3 \
    --weight-decay 0.05 --scheduler cosine --label-smoothing 0.1 --augment default --seed 0 \
    --teacher edgefer/assets/edge.onnx --kd-temperature 4 --kd-weight 0.7 --out "$run"
fi
edgefer evaluate "$run" --split val                            # the student alone
edgefer evaluate edgefer/assets/edge.onnx --split val          # its teacher, the plain twin
edgefer evaluate "$run" edgefer/assets/edge.onnx --split val   # both, averaged
