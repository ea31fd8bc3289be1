#!/usr/bin/env bash
# Recipes for the shipped models edgefer/assets/NAME.{onnx,int8.onnx,ncnn.*}:
#   recipes/shipped.sh edge     # the default: 80 epochs, 65-101 s each on 2 Xeon cores (106 min)
#   recipes/shipped.sh edge-s   # the faster one: 30 epochs, 49-81 s each on 2 CPU cores
# CPU (fp32 without bf16 matrix units) or CUDA; resumable: re-run to continue a killed run.
set -euo pipefail
: "${EDGEFER_DATA:?set EDGEFER_DATA to FER2013 (csv, npz or image folders)}"
name=${1:?usage: recipes/shipped.sh edge|edge-s}
case $name in
  edge) args=(--epochs 80 --batch-size 128) ;;
  edge-s) args=(--epochs 30 --batch-size 64) ;;
  *) echo "unknown shipped model $name: edge or edge-s" >&2; exit 2 ;;
esac
run=${RUN:-runs/$name-ship}
if [ -f "$run/last.pt" ]; then
  edgefer train --resume "$run"
else
  edgefer train --model "$name" "${args[@]}" --optimizer adamw --lr 2e-3 --weight-decay 0.05 \
    --scheduler cosine --label-smoothing 0.1 --augment default --seed 0 --out "$run"
fi
# int8 weights in a 7-bit range (export's default; the shipped edge-s int8 file was
# re-quantized so from its fp32 file when full-range weights proved to saturate on x86 CPUs
# without VNNI, see README, Export); ncnn fp16 needs `pip install 'edgefer[ncnn]'`.
edgefer export "$run" --int8 --calib-size 1000 --calib-method minmax --format ncnn \
  --out "$run/export"
for suffix in .onnx .int8.onnx .ncnn.param .ncnn.bin .ncnn.json; do
  install -m 644 "$run/export/model$suffix" "edgefer/assets/$name$suffix"
done
