#!/usr/bin/env bash
# The A/B pairs behind docs/training.md's "What each step gave": each arm trained, exported
# (int8, as shipped, measured on val alone: --val-only) and run through the corruption benchmark
# on val. Choose on val only.
#   recipes/steps.sh corrupt   # edge's student fine-tuned 10 epochs, --corrupt 0.5, 0.35, 0.25, 0
#   recipes/steps.sh reparam   # edge-s from scratch, 20 epochs, --reparam vs plain
#   recipes/steps.sh ema       # the --corrupt 0.25 arm again with --ema 0.998 (its twin: corrupt)
#   recipes/steps.sh mixup     # the --corrupt 0.25 arm again with --mixup 0.2 (its twin: corrupt)
#   recipes/steps.sh cutmix    # the --corrupt 0.25 arm again with --cutmix 1.0 (its twin: corrupt)
#   recipes/steps.sh sam       # the --corrupt 0.25 arm again with --sam 0.05 (its twin: corrupt)
#   recipes/steps.sh teacher   # edge-l, 100 epochs (97-155 s each on a 2-core Zen 4 EPYC)
#   recipes/steps.sh teacher2  # the same with seed 1: a third member for the teachers' ensemble
#   recipes/steps.sh ensemble  # the --corrupt 0.25 arm again, distilled from the student and the
#                              # 100-epoch edge-l averaged (after step teacher; its twin: corrupt)
#   recipes/steps.sh ensemble20  # that arm with 20 epochs at a peak rate of 1e-3, and its twin
#                                # distilled from the student alone
#   recipes/steps.sh ensemble40  # the ensemble20 arm with twice the epochs (its twin: ensemble20;
#                                # shipped as edge)
#   recipes/steps.sh trio40      # the ensemble40 arm with ensemble40's own model as a third
#                                # teacher (its twin: ensemble40)
#   recipes/steps.sh trio60      # the trio40 arm with 60 epochs (its twin: trio40)
#   recipes/steps.sh quad40      # the trio40 arm with teacher2's edge-l as a fourth teacher
#                                # (after step teacher2; its twin: trio40)
#   recipes/steps.sh fresh80     # a student from scratch, 80 epochs, distilled from quad40's
#                                # four teachers (its twin: quad40)
#   recipes/steps.sh kd90        # the trio40 arm with 0.9 of the loss from the teachers, not
#                                # 0.7 (its twin: trio40)
#   recipes/steps.sh t2          # the trio40 arm with the teachers' and student's outputs
#                                # softened at temperature 2, not 4 (its twin: trio40)
#   recipes/steps.sh v2fresh80   # the fresh80 arm with edge-v2 (a stride-2 stem, a 256-wide last
#                                # stage: edge's latency; its twin: fresh80)
#   recipes/steps.sh v2trio40    # the trio40 arm with edge-v2, started from v2fresh80's model
#                                # (after step v2fresh80; its twin: trio40)
#   recipes/steps.sh top4        # the trio40 arm distilled from the four kept teachers best
#                                # together on val (benchmarks/teacher_sets.md: edge-l-100,
#                                # edge-l-100-s1, edge-trio40, edge-v2-fresh80; its twin: trio40)
#   recipes/steps.sh polish20    # trio40's model (the shipped edge), 20 more epochs at a peak rate
#                                # of 3e-4 distilled from top4's four teachers (its twin: trio40)
#   recipes/steps.sh seed2       # the trio40 arm with another seed (data order, augmentation,
#                                # corruptions): how far two draws of one arm differ on val
#   recipes/steps.sh wide40      # the trio40 arm with edge-w (edge's last stage 224 wide, not
#                                # 192), its start edge-kd widened (its twin: trio40)
#   recipes/steps.sh patient160  # patient, consistent distillation: trio40's model widened to
#                                # edge-w, 160 epochs from top4's four teachers, each face mixed
#                                # with another for teachers and student alike (--mixup 0.2;
#                                # hours: carried over machines in recipes/resume/)
#   recipes/steps.sh folds       # cross-fitted teachers: edge-l, 60 epochs on the labels alone,
#                                # five times, each without one fifth of Training (--folds 5)
#   recipes/steps.sh oof40       # the trio40 arm distilled from the five cross-fitted teachers,
#                                # each face by the one that never saw it (after step folds;
#                                # its twin: trio40)
#   recipes/steps.sh votes40     # the trio40 arm with FER+'s vote shares as a fourth teacher
#                                # (--teacher-votes 0.1; its twin: trio40)
#   recipes/steps.sh flip20      # the ensemble20 arm with the teachers' targets averaged over
#                                # the face and its mirror (--teacher-flip; its twin: ensemble20)
#   recipes/steps.sh round2      # a second round: ensemble20's model (edge until 2026-12-06), 20 more
#                                # epochs distilled from itself, the student and edge-l, mirrored
# Resumable: re-run to continue a killed run. Each run's metrics.csv holds its epoch times.
set -euo pipefail
: "${EDGEFER_DATA:?set EDGEFER_DATA to FER2013 (csv, npz or image folders)}"
step=${1:?usage: recipes/steps.sh corrupt|reparam|ema|mixup|cutmix|sam|teacher|teacher2|ensemble|ensemble20|ensemble40|trio40|trio60|quad40|fresh80|kd90|t2|v2fresh80|v2trio40|top4|polish20|seed2|wide40|patient160|folds|oof40|votes40|flip20|round2}
recipe=(--optimizer adamw --weight-decay 0.05 --scheduler cosine --label-smoothing 0.1
        --augment default)

# train RUN DONE [options]: start the run, or continue it while its exported file DONE is
# missing (a killed run, or one carried over a change of machine in recipes/resume/)
train() {
  local run=$1 done=$2 carried=recipes/resume/${1#runs/}
  shift 2
  if [ ! -f "$run/last.pt" ] && [ -f "$carried/last.pt" ]; then
    mkdir -p "$run" && cp "$carried"/* "$run/"
  fi
  if [ ! -f "$run/last.pt" ]; then
    edgefer train "${recipe[@]}" "$@" --out "$run"
  elif [ ! -f "$done" ]; then
    edgefer train --resume "$run"
  fi
}

# arm RUN [options]: train (or continue) the run, export it, benchmark its int8 file on val
arm() {
  local run=$1
  shift
  train "$run" "$run/export/model.int8.onnx" "$@"
  [ -f "$run/export/model.int8.onnx" ] || edgefer export "$run" --int8 --calib-size 1000 \
    --calib-method minmax --reduce-range stem --val-only --out "$run/export"
  [ -f "$run/corruption_val.json" ] || python benchmarks/corruption.py --split val \
    --model "$run/export/model.int8.onnx" --out "$run/corruption_val"
}

# the distilled student (recipes/shipped.sh edge, step 2) as start and teacher; the teacher
# sees the clean face
T=recipes/teachers
student=$T/edge-kd.onnx
tune=(--model edge --epochs 10 --batch-size 128 --lr 5e-4 --seed 1 --init "$student")
self=(--teacher "$student")
pair="$student,$T/edge-l-100.onnx"
both=(--teacher "$pair")
trio="$pair,$T/edge-ens40.onnx"
quad="$trio,$T/edge-l-100-s1.onnx"
# the four kept teachers best together on val: benchmarks/teacher_sets.md
top4="$T/edge-l-100.onnx,$T/edge-l-100-s1.onnx,$T/edge-trio40.onnx,$T/edge-v2-fresh80.onnx"
# five edge-l, each trained without one fold of Training (step folds)
oof=$(printf "$T/edge-l-fold%d.onnx," 0 1 2 3 4)
oof=${oof%,}
long=(--model edge --epochs 20 --batch-size 128 --lr 1e-3 --seed 1 --corrupt 0.25)
case $step in
  corrupt)
    for rate in 0.5 0.35 0.25 0; do
      arm "runs/edge-rob-$rate" "${tune[@]}" "${self[@]}" --corrupt "$rate"
    done ;;
  ema)
    arm runs/edge-rob-0.25-ema "${tune[@]}" "${self[@]}" --corrupt 0.25 --ema 0.998 ;;
  mixup)
    arm runs/edge-rob-0.25-mixup "${tune[@]}" "${self[@]}" --corrupt 0.25 --mixup 0.2 ;;
  cutmix)
    arm runs/edge-rob-0.25-cutmix "${tune[@]}" "${self[@]}" --corrupt 0.25 --cutmix 1.0 ;;
  sam)
    arm runs/edge-rob-0.25-sam "${tune[@]}" "${self[@]}" --corrupt 0.25 --sam 0.05 ;;
  teacher|teacher2)
    # a stronger teacher (teacher2: its twin with another seed, a third ensemble member); its
    # fp32 file is kept in recipes/teachers/ (runs/ may not survive a change of machine)
    seed=0 name=edge-l-100
    [ "$step" = teacher ] || seed=1 name=edge-l-100-s1
    run=runs/$name
    train "$run" "$run/export/model.onnx" --model edge-l --epochs 100 --batch-size 128 \
      --lr 2e-3 --seed "$seed"
    [ -f "$run/export/model.onnx" ] || edgefer export "$run" --out "$run/export"
    install -m 644 "$run/export/model.onnx" "$T/$name.onnx" ;;
  ensemble)
    arm runs/edge-rob-0.25-ens "${tune[@]}" --corrupt 0.25 "${both[@]}" ;;
  ensemble20)
    # the same, twice the epochs at twice the peak rate (the edge that ships), and its twin
    # distilled from the student alone
    arm runs/edge-rob-0.25-ens20 "${long[@]}" --init "$student" "${both[@]}"
    arm runs/edge-rob-0.25-self20 "${long[@]}" --init "$student" "${self[@]}" ;;
  ensemble40)
    arm runs/edge-rob-0.25-ens40 "${long[@]}" --epochs 40 --init "$student" "${both[@]}" ;;
  trio40|trio60)
    epochs=${step#trio}
    arm "runs/edge-rob-0.25-$step" "${long[@]}" --epochs "$epochs" --init "$student" \
      --teacher "$trio" ;;
  quad40)
    arm runs/edge-rob-0.25-quad40 "${long[@]}" --epochs 40 --init "$student" --teacher "$quad" ;;
  fresh80)
    # a student from scratch, not from edge-kd's weights: 80 epochs at the rate of a run
    # from scratch, distilled from quad40's four teachers
    arm runs/edge-fresh80 --model edge --epochs 80 --batch-size 128 --lr 2e-3 --seed 1 \
      --corrupt 0.25 --teacher "$quad" ;;
  v2fresh80)
    arm runs/edge-v2-fresh80 --model edge-v2 --epochs 80 --batch-size 128 --lr 2e-3 --seed 1 \
      --corrupt 0.25 --teacher "$quad"
    install -m 644 runs/edge-v2-fresh80/export/model.onnx "$T/edge-v2-fresh80.onnx" ;;
  v2trio40)
    arm runs/edge-v2-trio40 "${long[@]}" --model edge-v2 --epochs 40 \
      --init "$T/edge-v2-fresh80.onnx" --teacher "$trio" ;;
  top4)
    arm runs/edge-rob-0.25-top4 "${long[@]}" --epochs 40 --init "$student" --teacher "$top4" ;;
  polish20)
    arm runs/edge-rob-0.25-polish20 "${long[@]}" --lr 3e-4 --init "$T/edge-trio40.onnx" \
      --teacher "$top4" ;;
  seed2)
    arm runs/edge-rob-0.25-seed2 "${long[@]}" --epochs 40 --init "$student" --teacher "$trio" \
      --seed 2 ;;
  wide40)
    arm runs/edge-w-trio40 "${long[@]}" --model edge-w --epochs 40 --init "$student" \
      --teacher "$trio" ;;
  patient160)
    arm runs/edge-w-patient160 "${long[@]}" --model edge-w --epochs 160 \
      --init "$T/edge-trio40.onnx" --teacher "$top4" --mixup 0.2 ;;
  folds)
    # kept in recipes/teachers/ as they finish (runs/ may not survive a change of machine)
    for fold in 0 1 2 3 4; do
      run=runs/edge-l-fold$fold
      train "$run" "$run/export/model.onnx" --model edge-l --epochs 60 --batch-size 128 \
        --lr 2e-3 --seed 0 --folds 5 --fold "$fold"
      [ -f "$run/export/model.onnx" ] || edgefer export "$run" --val-only --out "$run/export"
      install -m 644 "$run/export/model.onnx" "$T/edge-l-fold$fold.onnx"
    done ;;
  oof40)
    arm runs/edge-rob-0.25-oof40 "${long[@]}" --epochs 40 --init "$student" --teacher "$oof" ;;
  kd90)
    arm runs/edge-rob-0.25-kd90 "${long[@]}" --epochs 40 --init "$student" --teacher "$trio" \
      --kd-weight 0.9 ;;
  t2)
    arm runs/edge-rob-0.25-t2 "${long[@]}" --epochs 40 --init "$student" --teacher "$trio" \
      --kd-temperature 2 ;;
  votes40)
    arm runs/edge-rob-0.25-votes40 "${long[@]}" --epochs 40 --init "$student" --teacher "$trio" \
      --teacher-votes 0.1 ;;
  flip20)
    arm runs/edge-rob-0.25-flip20 "${long[@]}" --init "$student" "${both[@]}" --teacher-flip ;;
  round2)
    ens20=$T/edge-ens20.onnx
    arm runs/edge-round2 "${long[@]}" --init "$ens20" --teacher "$pair,$ens20" --teacher-flip ;;
  reparam)
    arm runs/edge-s-plain --model edge-s --epochs 20 --batch-size 64 --lr 2e-3 --seed 0
    arm runs/edge-s-reparam --model edge-s --epochs 20 --batch-size 64 --lr 2e-3 --seed 0 \
      --reparam ;;
  *) echo "unknown step $step: corrupt, reparam, ema, mixup, cutmix, sam, teacher, teacher2, ensemble, ensemble20, ensemble40, trio40, trio60, quad40, fresh80, kd90, t2, v2fresh80, v2trio40, top4, polish20, seed2, wide40, patient160, folds, oof40, votes40, flip20 or round2" >&2; exit 2 ;;
esac
