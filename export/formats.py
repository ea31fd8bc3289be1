"""Convert an exported edgefer ONNX file to the other runtimes' formats, metadata included:
OpenVINO IR (`openvino`: NAME.xml + NAME.bin, the metadata inside the .xml; a QDQ int8 file
stays int8), ncnn (`pnnx`: NAME.ncnn.param + NAME.ncnn.bin with fp16 weights, the metadata
in NAME.ncnn.json; pip's ncnn has no int8 calibration tools, so ncnn is converted from fp32)
and LiteRT (`litert-torch`: NAME.tflite, the metadata in the file; int8 quantized from the
fp32 file on the int8 ONNX file's calibration faces, see `to_tflite`).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from edgefer.atomic import atomic_write, atomic_write_text
from edgefer.errors import EdgeferError, first_line, require
from edgefer.modelmeta import KEY, ModelMeta
from edgefer.runtime.backends import import_openvino, model_files
from edgefer.runtime.formats import FORMATS
from edgefer.runtime.tflite_file import with_metadata


def check_formats(formats: list[str]) -> None:
    """EdgeferError for an unknown format or a missing converter, before any work starts."""
    for name in formats:
        if name not in FORMATS:
            raise EdgeferError(f"unknown format {name!r}: choose from {', '.join(FORMATS)}")
        if FORMATS[name].converter:
            require(FORMATS[name].converter, FORMATS[name].export_extra)


def converted_files(model: Path, fmt: str) -> list[Path]:
    """The files `convert` writes for the ONNX file `model` (model.onnx -> model.xml, ...);
    the first one is what the runtime opens."""
    return model_files(model.with_name(model.name.removesuffix(".onnx") + FORMATS[fmt].ending))


def convert(fmt: str, model: Path, meta: ModelMeta, out: Path, *, fp32: Path | None = None,
            calib: np.ndarray | None = None) -> Path:
    """Write `model` (an edgefer ONNX file) in `fmt` into directory `out` with `meta`; returns
    the file the runtime opens. A format that calibrates its own int8 file makes it from the
    `fp32` ONNX file on `calib` (preprocessed faces)."""
    files = [out / f.name for f in converted_files(model, fmt)]
    if fmt == "openvino":
        _to_openvino(model, meta, files[0])
    elif fmt == "ncnn":
        _to_ncnn(model, meta, *files)
    elif fmt == "tflite":
        from edgefer.export.to_tflite import to_tflite

        int8 = meta.precision == "int8"
        if int8 and (fp32 is None or calib is None):
            raise EdgeferError("an int8 LiteRT file is made from the fp32 ONNX file and "
                               "calibration faces")
        flat = to_tflite(fp32 if int8 else model, meta, calib if int8 else None)
        atomic_write(files[0], lambda tmp: tmp.write_bytes(flat))
    else:
        raise EdgeferError(f"cannot convert to {fmt!r}")
    return files[0]


def stamp(fmt: str, path: Path, meta: ModelMeta, out: Path) -> Path:
    """Write the `fmt` model `convert` made at `path` into directory `out` with `meta` (e.g.
    the figures measured on it); returns the file the runtime opens."""
    files = model_files(path)
    final = [out / f.name for f in files]
    if fmt == "openvino":
        _to_openvino(path, meta, final[0])  # OpenVINO reads its own IR as it reads ONNX
    elif fmt == "ncnn":
        for src, dst in zip(files[:2], final[:2], strict=True):
            shutil.copyfile(src, dst)
        _describe_ncnn(meta, final[2])
    elif fmt == "tflite":
        flat = with_metadata(path.read_bytes(), meta)
        atomic_write(final[0], lambda tmp: tmp.write_bytes(flat))
    else:
        raise EdgeferError(f"cannot convert to {fmt!r}")
    return final[0]


def _to_openvino(model: Path, meta: ModelMeta, xml: Path) -> None:
    ov = import_openvino()

    try:
        ir = ov.Core().read_model(str(model))
    except Exception as e:  # openvino's own RuntimeError types
        raise EdgeferError(f"OpenVINO cannot convert {model}: {first_line(e)}") from None
    ir.set_rt_info(meta.to_json(), ["framework", KEY])  # where OpenVINO keeps ONNX metadata
    ov.save_model(ir, str(xml), compress_to_fp16=False)


def _to_ncnn(model: Path, meta: ModelMeta, param: Path, weights: Path, described: Path) -> None:
    from pnnx import EXEC_PATH

    if meta.preprocess.layout != "NCHW":
        raise EdgeferError(f"{model}: ncnn export needs an NCHW model")
    h, w = meta.preprocess.size
    with tempfile.TemporaryDirectory(prefix=".pnnx-", dir=param.parent) as tmp:
        work = Path(tmp)
        shutil.copyfile(model, work / "in.onnx")  # pnnx writes its side files beside the input
        done = subprocess.run(
            [EXEC_PATH, "in.onnx", f"inputshape=[1,{meta.preprocess.channels},{h},{w}]",
             "fp16=1", "ncnnparam=out.param", "ncnnbin=out.bin", "ncnnpy=out_ncnn.py",
             "pnnxparam=out.pnnx.param", "pnnxbin=out.pnnx.bin", "pnnxpy=out_pnnx.py",
             "pnnxonnx=out.pnnx.onnx"],
            cwd=work, capture_output=True, text=True, check=False)
        if done.returncode != 0 or not (work / "out.param").is_file():
            last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            raise EdgeferError(f"pnnx could not convert {model} to ncnn: {last[0][:200]}")
        shutil.move(work / "out.param", param)
        shutil.move(work / "out.bin", weights)
    _describe_ncnn(meta, described)


def _describe_ncnn(meta: ModelMeta, described: Path) -> None:
    """Write an ncnn model's metadata file (its weights stay fp16)."""
    ncnn_meta = replace(meta, precision=FORMATS["ncnn"].stored_as)
    atomic_write_text(described, ncnn_meta.to_json() + "\n")
