#!/usr/bin/env bash
# Recipe for the shipped model edgefer/assets/edge-s.{onnx,int8.onnx}.
# Runs on CPU (about 81 s an epoch on 2 cores) or CUDA; resumable: re-run to continue.
set -euo pipefail
: "${EDGEFER_DATA:?set EDGEFER_DATA to FER2013 (csv, npz or image folders)}"
run=${RUN:-runs/edge-s-ship}
if [ -f "$run/last.pt" ]; then
  edgefer train --resume "$run"
else
  edgefer train --model edge-s --epochs 30 --batch-size 64 --optimizer adamw --lr 2e-3 \
    --weight-decay 0.05 --scheduler cosine --label-smoothing 0.1 --augment default --seed 0 \
    --out "$run"
fi
# int8 weights in a 7-bit range (export's default): the shipped int8 file was re-quantized so
# from the shipped fp32 file, `edgefer export edgefer/assets/edge-s.onnx --int8 --calib-size
# 1000 --calib-method minmax --out runs/requant`, when full-range weights proved to saturate
# on x86 CPUs without VNNI (see README, Export).
edgefer export "$run" --int8 --calib-size 1000 --calib-method minmax --out "$run/export"
install -m 644 "$run/export/model.onnx" edgefer/assets/edge-s.onnx
install -m 644 "$run/export/model.int8.onnx" edgefer/assets/edge-s.int8.onnx
