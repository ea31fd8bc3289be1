"""`edgefer export`: checkpoint -> model.onnx (+ model.int8.onnx) + export_report.json."""

from __future__ import annotations

import copy
import json
import os
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
from torch import nn

from edgefer import __version__
from edgefer.atomic import atomic_write_text
from edgefer.data import FaceSet, load_faces
from edgefer.errors import EdgeferError
from edgefer.export.formats import convert, converted_files, stamp
from edgefer.export.options import REDUCE_RANGES, ExportOptions
from edgefer.export.quantize import calibration_set, quantize_int8
from edgefer.export.report import (
    ExportReport,
    FormatFigures,
    ModelFigures,
    build_report,
    int8_drop,
)
from edgefer.export.to_onnx import export_fp32, torch_max_diff
from edgefer.latency import measure_latency
from edgefer.modelfile import write_with_metadata
from edgefer.modelmeta import ModelMeta
from edgefer.models import count_macs, count_params
from edgefer.runtime import EmotionClassifier
from edgefer.runtime.backends import model_files
from edgefer.runtime.formats import FORMATS
from edgefer.train.checkpoint import held_out, load_checkpoint, model_from_checkpoint

FP32_NAME, INT8_NAME, REPORT_NAME = "model.onnx", "model.int8.onnx", "export_report.json"


def export_model(src: Path, out: Path, data: Path, opts: ExportOptions) -> ExportReport:
    """Export, measure and describe; returns the report (also written to out/REPORT_NAME).

    Model files appear only complete (written beside the target, then renamed). When int8
    loses more than `max_drop` val points the int8 file is not written and the report says so.
    Other formats are converted from the kept ONNX files and measured the same way.
    """
    opts.check()
    model, meta = _source(src)
    spec = meta.preprocess
    faces = load_faces(data)
    splits = {s: faces.split(s) for s in ("train", *opts.splits)}
    for s in opts.splits:
        if len(splits[s]) == 0:
            raise EdgeferError(f"{data}: export measures accuracy on '{s}', which is empty")
    calib = calibration_set(splits["train"], opts.calib_size, opts.seed) if opts.int8 else None
    try:
        out.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=".export-", dir=out))
    except OSError as e:
        raise EdgeferError(f"cannot write to {out}: {e.strerror or e}") from None
    try:
        x = {s: spec(splits[s].images) for s in opts.splits}
        unseen = None if opts.val_only else ~splits["test"].seen_in(splits["train"])
        if model is None:
            shutil.copyfile(src, work / "raw.onnx")
        else:
            export_fp32(copy.deepcopy(model), spec, work / "raw.onnx")
        staged = {"fp32": work / FP32_NAME}
        metas = {"fp32": meta}
        write_with_metadata(work / "raw.onnx", metas["fp32"], staged["fp32"])
        if calib is not None:
            input_quant = quantize_int8(work / "raw.onnx", work / "int8.onnx", calib, spec,
                                        opts.calib_method, opts.activations, opts.reduce_range,
                                        work)
            staged["int8"] = work / INT8_NAME
            weights = f"int8 per-channel, {REDUCE_RANGES[opts.reduce_range]}"
            calibration = {"method": opts.calib_method, "samples": len(calib),
                           "seed": opts.seed, "split": "train", "activations": opts.activations,
                           "weights": weights, "input": input_quant, "format": "QDQ"}
            metas["int8"] = replace(meta, precision="int8", calibration=calibration)
            write_with_metadata(work / "int8.onnx", metas["int8"], staged["int8"])
        results, probs = {}, {}
        for name, path in staged.items():
            results[name], probs[name] = _measure(path, x, splits, unseen, opts.latency_runs)
        passed = "int8" not in results or \
            int8_drop(results["fp32"], results["int8"], "val") <= opts.max_drop
        done = work / "done"  # the finished files, moved into `out` together at the end
        for name, path in staged.items():
            if name == "int8" and not passed:
                continue
            final = done / path.name
            write_with_metadata(path, replace(metas[name], metrics=_metrics(results[name])), final)
            results[name].file, results[name].bytes = str(out / path.name), final.stat().st_size
        kept = {n: p for n, p in staged.items() if n != "int8" or passed}
        formats = {}
        faces = None if calib is None else spec(calib.images)
        for fmt in opts.formats:
            for name in FORMATS[fmt].converted_from:
                if name in kept:
                    key, figures = _convert_and_measure(
                        fmt, kept[name], metas[name], probs[name], x, splits, unseen, opts,
                        work, done, fp32=kept["fp32"], calib=faces)
                    figures.file = str(out / Path(figures.file).name)
                    formats[key] = figures
        n = 256  # PyTorch vs ONNX Runtime on the first val faces
        diff = None if model is None else \
            torch_max_diff(model, probs["fp32"]["val"][:n], x["val"][:n])
        report = build_report(src, out, data, results, probs, opts.max_drop, passed, diff,
                              formats)
        atomic_write_text(done / REPORT_NAME, json.dumps(report.to_dict(), indent=2) + "\n")
        for f in done.iterdir():
            os.replace(f, out / f.name)
        if not passed:  # never leave an older int8 file beside the new fp32 one
            for old in [out / INT8_NAME, *converted_files(out / INT8_NAME, "openvino")]:
                old.unlink(missing_ok=True)
        return report
    except OSError as e:  # e.g. the disk filled up while staging: `out` is left as it was
        raise EdgeferError(f"cannot write the export to {out}: {e.strerror or e}") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _source(src: Path) -> tuple[nn.Module | None, ModelMeta]:
    """The model to export and its fp32 metadata: a checkpoint (or run dir), or an fp32
    edgefer ONNX model to quantize again (then no torch module)."""
    if src.suffix == ".onnx":
        meta = EmotionClassifier(src).meta
        if meta.precision != "fp32":
            raise EdgeferError(f"{src}: a {meta.precision} model; export --int8 quantizes the "
                               "fp32 twin (model.onnx) or a checkpoint")
        return None, replace(meta, metrics={}, calibration=None, edgefer=__version__)
    ckpt = load_checkpoint(src)
    model, spec, labels = model_from_checkpoint(ckpt)
    return model, ModelMeta(labels=labels, preprocess=spec, precision="fp32", arch=ckpt["arch"],
                            params=count_params(model), macs=count_macs(model),
                            source={"checkpoint": Path(ckpt["path"]).name,
                                    "epoch": ckpt["epoch"]}, edgefer=__version__,
                            held_out=held_out(ckpt))


def _convert_and_measure(fmt: str, model: Path, meta: ModelMeta, twin: dict, x: dict,
                         splits: dict[str, FaceSet], unseen: np.ndarray | None,
                         opts: ExportOptions, work: Path, done: Path, fp32: Path,
                         calib: np.ndarray | None) -> tuple[str, FormatFigures]:
    """Convert one staged ONNX file to `fmt` (a format that calibrates its own int8 file
    quantizes `fp32` on `calib`), measure it as the ONNX files are, and write the final
    files (metrics in their metadata) into `done`."""
    staging = work / fmt
    staging.mkdir(exist_ok=True)
    path = convert(fmt, model, meta, staging, fp32=fp32, calib=calib)
    figures, probs = _measure(path, x, splits, unseen, opts.latency_runs)
    final = stamp(fmt, path, replace(EmotionClassifier(path).meta, metrics=_metrics(figures)),
                  done)
    precision = FORMATS[fmt].stored_as or meta.precision
    agreement = {s: float((probs[s].argmax(1) == twin[s].argmax(1)).mean()) for s in probs}
    size = sum(f.stat().st_size for f in model_files(final))
    return f"{fmt} {precision}", FormatFigures(
        size, figures.val_acc, figures.test_acc, figures.test_unseen_acc,
        figures.latency_ms_1thread_b1, str(final), fmt, model.name, agreement)


def _measure(path: Path, x: dict[str, np.ndarray], splits: dict[str, FaceSet],
             unseen: np.ndarray | None, runs: int) -> tuple[ModelFigures, dict]:
    """Accuracy on the splits of `x` (val, and test unless `unseen` is None) with all cores,
    then single-thread batch-1 latency."""
    clf = EmotionClassifier(path)
    probs = {s: np.concatenate([clf.run_tensor(b) for b in np.array_split(x[s], 8)])
             for s in x}
    acc = {s: float((probs[s].argmax(1) == splits[s].labels).mean()) for s in probs}
    test_unseen = None if unseen is None else \
        float((probs["test"].argmax(1) == splits["test"].labels)[unseen].mean())
    one = EmotionClassifier(path, threads=1)
    sample = x["val"][:1]
    result = ModelFigures(path.stat().st_size, acc["val"], acc.get("test"), test_unseen,
                          measure_latency(lambda: one.run_tensor(sample), runs))
    return result, probs


def _metrics(r: ModelFigures) -> dict:
    """The accuracies a model file's metadata keeps (test only where it was measured)."""
    figures = {"val_acc": r.val_acc, "test_acc": r.test_acc, "test_unseen_acc": r.test_unseen_acc}
    return {k: v for k, v in figures.items() if v is not None}
