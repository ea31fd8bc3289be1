#!/usr/bin/env bash
# Recipes for the shipped models edgefer/assets/NAME.{onnx,int8.onnx,ncnn.*,int8.tflite}:
#   recipes/shipped.sh edge     # the default: teachers, student, camera fine-tunes (about 11 h)
#   recipes/shipped.sh edge-s   # the faster one: 30 epochs, 49-81 s each on 2 CPU cores
# CPU (bf16 where it is faster: AMX, AMD AVX512-BF16; fp32 elsewhere) or CUDA; resumable:
# re-run to continue a killed run.
# Wall times: a 2-core Intel Xeon (AVX512, VNNI) or AMD EPYC (AVX2) VM, fp32.
set -euo pipefail
: "${EDGEFER_DATA:?set EDGEFER_DATA to FER2013 (csv, npz or image folders)}"
name=${1:?usage: recipes/shipped.sh edge|edge-s}
recipe=(--optimizer adamw --weight-decay 0.05 --scheduler cosine --label-smoothing 0.1
        --augment default)

# train RUN [options]: start the run, or continue it where a kill left it
train() {
  local run=$1
  shift
  if [ -f "$run/last.pt" ]; then
    edgefer train --resume "$run"
  else
    edgefer train "${recipe[@]}" "$@" --out "$run"
  fi
}

case $name in
  edge)
    # 1. two teachers on the labels alone: 80 epochs (106 min on the Xeon, 65-101 s each)
    #    and 45 epochs (94 min on the EPYC, 114-148 s each)
    for epochs in 80 45; do
      train "runs/edge-$epochs" --model edge --epochs "$epochs" --batch-size 128 --lr 2e-3 --seed 0
      edgefer export "runs/edge-$epochs" --out "runs/edge-$epochs/export"
    done
    # 2. the student: the 80-epoch teacher's weights, 20 more epochs at a quarter of the rate,
    #    distilled from both teachers averaged (46 min on the EPYC, 134-149 s an epoch: the
    #    teachers run on every batch); recipes/distill.sh trains its twin without teachers
    teachers=runs/edge-80/export/model.onnx,runs/edge-45/export/model.onnx
    train runs/edge-kd --model edge --epochs 20 --batch-size 128 --lr 5e-4 --seed 1 \
      --init runs/edge-80/export/model.onnx --teacher "$teachers"
    edgefer export runs/edge-kd --out runs/edge-kd/export
    # 3. a stronger teacher: edge-l, 100 epochs on the labels alone (95-155 s an epoch on a
    #    2-core Zen 4 EPYC); its fp32 file is kept as recipes/teachers/edge-l-100.onnx
    train runs/edge-l-100 --model edge-l --epochs 100 --batch-size 128 --lr 2e-3 --seed 0
    edgefer export runs/edge-l-100 --out runs/edge-l-100/export
    # 4. robust to the camera: the student fine-tuned 40 epochs with a quarter of its faces
    #    corrupted, distilled from itself and edge-l averaged, both on the clean face (86-111 s
    #    an epoch on a 2-core Intel Xeon with AMX, bf16); the student's fp32 file is kept as
    #    recipes/teachers/edge-kd.onnx, this step's as recipes/teachers/edge-ens40.onnx
    student=runs/edge-kd/export/model.onnx
    pair=$student,runs/edge-l-100/export/model.onnx
    train runs/edge-rob --model edge --epochs 40 --batch-size 128 --lr 1e-3 --seed 1 \
      --init "$student" --teacher "$pair" --corrupt 0.25
    edgefer export runs/edge-rob --out runs/edge-rob/export
    # 5. step 4 again with step 4's model as a third teacher, the three averaged (117-188 s an
    #    epoch on a 2-core AMD EPYC Zen 4, fp32); kept as recipes/teachers/edge-trio40.onnx
    train runs/edge-trio --model edge --epochs 40 --batch-size 128 --lr 1e-3 --seed 1 \
      --init "$student" --teacher "$pair,runs/edge-rob/export/model.onnx" --corrupt 0.25
    run=runs/edge-trio range=stem ;;
  edge-s)
    train runs/edge-s-ship --model edge-s --epochs 30 --batch-size 64 --lr 2e-3 --seed 0
    run=runs/edge-s-ship range=all ;;
  *) echo "unknown shipped model $name: edge or edge-s" >&2; exit 2 ;;
esac
# int8 weights in a 7-bit range where x86 CPUs without VNNI would saturate: edge in its
# first convolution (export's default, chosen on val: benchmarks/calibration.md), edge-s
# everywhere (its int8 file predates that option; see docs/export.md); ncnn fp16 needs
# `pip install 'edgefer[ncnn]'`, LiteRT `pip install 'edgefer[tflite-export]'` (its int8 file
# is quantized by ai-edge-quantizer on the same 1000 faces). The shipped .int8.tflite files
# were made from the shipped fp32 files, which gives the same int8 ONNX file byte for byte:
#   edgefer export edgefer/assets/NAME.onnx --int8 --calib-size 1000 --calib-method minmax \
#     --reduce-range stem|all --format tflite --out runs/ship-tflite/NAME
edgefer export "$run" --int8 --calib-size 1000 --calib-method minmax --reduce-range "$range" \
  --format ncnn --format tflite --out "$run/export"
for suffix in .onnx .int8.onnx .ncnn.param .ncnn.bin .ncnn.json .int8.tflite; do
  install -m 644 "$run/export/model$suffix" "edgefer/assets/$name$suffix"
done
