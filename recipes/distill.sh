#!/usr/bin/env bash
# Issue 14's path to a better shipped model, in progress: a teacher trained long, then an
# `edge` student distilled from it beside a twin trained on the labels alone (same epochs,
# so the gain of distillation is visible), each chosen on val (PublicTest).
# Every step is resumable: re-run the script after a kill and it continues where it stopped.
# Wall time on this project's 2-core AMD EPYC (fp32: no native bf16 there), the machine
# otherwise idle: the edge-l teacher about 220 s an epoch, an edge student 125 s (plain).
set -euo pipefail
: "${EDGEFER_DATA:?set EDGEFER_DATA to FER2013 (csv, npz or image folders)}"

train() {  # train RUN ARGS...: start the run, or resume it when it has a last.pt
  local run=$1
  shift
  if [ -f "$run/last.pt" ]; then
    edgefer train --resume "$run"
  else
    edgefer train "$@" --out "$run"
  fi
}

common=(--batch-size 128 --optimizer adamw --lr 2e-3 --weight-decay 0.05 --scheduler cosine
        --label-smoothing 0.1 --augment default --seed 0)
train runs/teacher-edge-l --model edge-l --epochs 100 "${common[@]}"
edgefer evaluate runs/teacher-edge-l --split val
train runs/student-edge-kd --model edge --epochs 45 "${common[@]}" \
  --teacher runs/teacher-edge-l/best.pt --kd-temperature 4 --kd-weight 0.7
train runs/student-edge --model edge --epochs 45 "${common[@]}"
edgefer evaluate runs/student-edge-kd --split val
edgefer evaluate runs/student-edge --split val
