"""The model formats edgefer runs and the backends that run them: the one table read by the
runtime (which engine opens a file), the shipped assets (which file a backend runs), export
(what each format is converted from) and `edgefer bench` (which rows it measures)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edgefer.errors import BadArgumentError

# every backend; "auto" runs a model on its format's own runtime (the first in `backends`)
BACKENDS = ("auto", "ort-cpu", "ort-cuda", "opencv", "openvino", "ncnn", "litert")


@dataclass(frozen=True)
class ModelFormat:
    """One model format: its files, the backends that run it, how export makes it."""

    name: str
    ending: str  # the name ending of the file the runtime opens: NAME.ncnn.param
    side_files: tuple[str, ...]  # the suffixes of the files beside it (NAME.ncnn.bin)
    backends: tuple[str, ...]  # the backends that run it, its own runtime first
    int8_backends: tuple[str, ...]  # those that run its int8 files correctly
    converted_from: tuple[str, ...] = ()  # export: the ONNX precisions it is converted from
    stored_as: str | None = None  # the precision its weights keep, if not the source's
    extra: str | None = None  # the pip extra that installs its runtime (and converter)
    runtime: str | None = None  # the module its backend imports
    converter: str | None = None  # the module export converts with
    converter_extra: str | None = None  # the pip extra of the converter, if not `extra`
    # export: its int8 file is quantized by its own converter from the fp32 ONNX file, on the
    # int8 ONNX file's calibration faces (not converted from the int8 ONNX file)
    calibrates: bool = False

    @property
    def export_extra(self) -> str | None:
        """The pip extra export needs to convert to this format."""
        return self.converter_extra or self.extra

    @property
    def suffix(self) -> str:
        """The last suffix of the file the runtime opens (.onnx, .xml, .param, .tflite)."""
        return Path(self.ending).suffix or self.ending

    def files(self, path: Path) -> list[Path]:
        """Every file of the model whose opened file is `path`, that one first."""
        stem = path.name.removesuffix(path.suffix)
        return [path.with_name(stem + s) for s in (self.suffix, *self.side_files)]


FORMATS = {f.name: f for f in (
    # OpenCV DNN silently mis-runs int8 QDQ graphs, so it runs fp32 ONNX files only
    ModelFormat("onnx", ".onnx", (), ("ort-cpu", "ort-cuda", "opencv", "openvino"),
                ("ort-cpu", "ort-cuda", "openvino")),
    # OpenVINO IR: NAME.xml + NAME.bin, a QDQ int8 source stays int8
    ModelFormat("openvino", ".xml", (".bin",), ("openvino",), ("openvino",),
                converted_from=("fp32", "int8"), extra="openvino", runtime="openvino",
                converter="openvino"),
    # ncnn through pnnx, fp16 weights: pip's ncnn has no int8 calibration tools
    ModelFormat("ncnn", ".ncnn.param", (".bin", ".json"), ("ncnn",), (),
                converted_from=("fp32",), stored_as="fp16", extra="ncnn", runtime="ncnn",
                converter="pnnx"),
    # LiteRT (TensorFlow Lite) flatbuffers through litert-torch; int8 is full-integer,
    # calibrated by ai-edge-quantizer; the metadata in the file's own metadata table
    ModelFormat("tflite", ".tflite", (), ("litert",), ("litert",),
                converted_from=("fp32", "int8"), extra="litert", runtime="ai_edge_litert",
                converter="litert_torch", converter_extra="tflite-export", calibrates=True),
)}


def int8_ending(fmt: ModelFormat) -> str:
    """The name ending of an exported int8 file of format `fmt`: NAME.int8.onnx."""
    return ".int8" + fmt.ending


INT8_ENDING = int8_ending(FORMATS["onnx"])


def model_format(path: Path) -> ModelFormat:
    """The format of a model file, from its name (.onnx, OpenVINO .xml, ncnn .param,
    LiteRT .tflite)."""
    for fmt in FORMATS.values():
        if path.suffix == fmt.suffix:
            return fmt
    raise BadArgumentError(f"{path}: not a model file edgefer runs (.onnx, OpenVINO .xml, "
                           "ncnn .param or LiteRT .tflite)")


def is_model_file(path: Path) -> bool:
    """Whether `path` is named like a model file the runtime opens (not a checkpoint)."""
    return any(path.suffix == fmt.suffix for fmt in FORMATS.values())


def own_format(backend: str) -> ModelFormat | None:
    """The format only `backend` runs (openvino, ncnn, litert), if it has one."""
    return next((f for f in FORMATS.values() if f.backends == (backend,)), None)


def backends_for(fmt: ModelFormat, precision: str) -> tuple[str, ...]:
    """The backends that run a `precision` model of format `fmt`."""
    return fmt.int8_backends if precision == "int8" else fmt.backends


def describe_backends() -> str:
    """The backends in one line for help texts: which run fp32 ONNX only, which need an
    extra."""
    onnx = FORMATS["onnx"]
    notes = []
    for b in BACKENDS[1:]:
        own = own_format(b)
        if own is not None and own.extra:
            notes.append(f"{b} (pip install 'edgefer[{own.extra}]')")
        elif b in onnx.backends and b not in onnx.int8_backends:
            notes.append(f"{b} (fp32 ONNX only)")
        else:
            notes.append(b)
    return "auto (the model format's own runtime), " + ", ".join(notes)


def describe_formats() -> str:
    """The formats export converts to, in one line for help texts: from which ONNX file,
    and the extra each needs."""
    def source(f: ModelFormat) -> str:
        if f.calibrates:
            return "fp32, and int8 calibrated on the same faces, from the fp32 ONNX file"
        return (f"from the {' and '.join(f.converted_from)} ONNX file"
                + "s" * (len(f.converted_from) > 1))
    return " or ".join(
        f"{f.name} ({f.ending}, {source(f)}; pip install 'edgefer[{f.export_extra}]')"
        for f in FORMATS.values() if f.converted_from)
