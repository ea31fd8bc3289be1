"""The inference engines behind `EmotionClassifier`, one per backend, each reading the model's
`edgefer` metadata; which backend runs which model file is `edgefer.runtime.formats.FORMATS`.

OpenVINO, ncnn and LiteRT are optional extras, imported only when chosen.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import onnxruntime as ort

from edgefer.errors import BadArgumentError, EdgeferError, MissingFileError, first_line, require
from edgefer.modelmeta import KEY, ModelMeta
from edgefer.runtime.formats import (
    BACKENDS,
    FORMATS,
    ModelFormat,
    backends_for,
    model_format,
    own_format,
)


def model_files(path: Path) -> list[Path]:
    """Every file of a model, the one the runtime opens first (NAME.ncnn.param ->
    NAME.ncnn.param, NAME.ncnn.bin, NAME.ncnn.json; NAME.xml -> NAME.xml, NAME.bin)."""
    return model_format(path).files(path)


def check_backend(backend: str, fmt: ModelFormat | None = None) -> None:
    """EdgeferError for a backend we do not know, one this install cannot run, or one that
    cannot run the model format `fmt`."""
    if backend not in BACKENDS:
        raise BadArgumentError(f"unknown backend {backend!r}: choose one of {', '.join(BACKENDS)}")
    if backend == "ort-cuda" and "CUDAExecutionProvider" not in ort.get_available_providers():
        raise EdgeferError("backend ort-cuda: this onnxruntime build has no CUDA provider "
                           "(install onnxruntime-gpu)")
    own = own_format(backend)
    if own is not None and own.runtime:
        require(own.runtime, own.extra)
    if fmt is not None and backend != "auto" and backend not in fmt.backends:
        runs = [f for f in FORMATS.values() if backend in f.backends]
        made = [f.name for f in runs if f.converted_from]
        raise EdgeferError(f"backend {backend} cannot run {fmt.name} models: it runs "
                           + " or ".join(f"{f.ending} files" for f in runs)
                           + (f" (edgefer export --format {made[0]})" if made else ""))


class Engine:
    """A loaded model: its metadata, its input shape per face (None where dynamic or unknown),
    its output count, and `run` (preprocessed float32 batch -> probabilities)."""

    backend: str
    meta: ModelMeta
    input_shape: list[int | None] | None = None
    outputs: int | None = None

    def run(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError


def open_engine(path: Path, backend: str = "auto", threads: int | None = None) -> Engine:
    """The engine for `backend` (auto: the model format's own runtime) on `threads` threads."""
    if not path.is_file():
        raise MissingFileError(f"model not found: {path}")
    if threads is not None and threads < 1:
        raise BadArgumentError(f"threads must be at least 1, not {threads}")
    fmt = model_format(path)
    if backend == "auto" and fmt.name != "onnx":  # auto on ONNX: onnxruntime, CUDA if there
        backend = fmt.backends[0]
    check_backend(backend, fmt)
    if backend == "openvino":
        return OpenVinoEngine(path, threads)
    if backend == "ncnn":
        return NcnnEngine(path, threads)
    if backend == "litert":
        return LiteRtEngine(path, threads)
    engine = OrtEngine(path, backend, threads)
    return OpenCVEngine(path, engine, threads) if backend == "opencv" else engine


def open_session(path: Path, backend: str = "ort-cpu", threads: int | None = None,
                 spinning: bool = True) -> ort.InferenceSession:
    """An onnxruntime session on the backend's providers with `threads` intra-op threads
    (`spinning`: see `session_options`)."""
    if not path.is_file():
        raise MissingFileError(f"model not found: {path}")
    check_backend(backend, FORMATS["onnx"])
    providers = ["CPUExecutionProvider"]
    if backend in ("auto", "ort-cuda") and \
            "CUDAExecutionProvider" in ort.get_available_providers():
        providers.insert(0, "CUDAExecutionProvider")
    try:
        return ort.InferenceSession(str(path), session_options(threads, spinning),
                                    providers=providers)
    except Exception as e:  # onnxruntime raises its own Fail/InvalidGraph/... types
        raise EdgeferError(f"{path}: not a loadable ONNX model ({first_line(e)})") from None


def session_options(threads: int | None, spinning: bool = True) -> ort.SessionOptions:
    """onnxruntime options for the sessions edgefer opens: `threads` intra-op threads (None:
    all cores); `spinning=False` makes idle pool threads sleep instead of spinning, for a
    session that shares the cores with other work: spinning in both the detector and the
    classifier halved `edgefer detect`'s frame rate on 2 cores, and a spinning classifier
    took the core the video decode thread needs (`runtime.sources`)."""
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    if not spinning:
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if threads:
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
    return opts


class OrtEngine(Engine):
    """onnxruntime on the CPU, or CUDA where the build has it (backend auto or ort-cuda); its
    idle threads sleep, as it shares the cores with the face detector and video decoding."""

    def __init__(self, path: Path, backend: str, threads: int | None) -> None:
        self.session = open_session(path, backend, threads, spinning=False)
        self.meta = ModelMeta.from_model(self.session.get_modelmeta().custom_metadata_map,
                                         str(path))
        self.backend = "ort-cuda" if "CUDAExecutionProvider" in self.session.get_providers() \
            else "ort-cpu"
        inputs, outputs = self.session.get_inputs(), self.session.get_outputs()
        if len(inputs) != 1 or len(outputs) < 1:
            raise EdgeferError(f"{path}: expected one input and an output")
        self.input_name = inputs[0].name
        self.input_shape = [d if isinstance(d, int) else None for d in inputs[0].shape[1:]]
        n_out = outputs[0].shape[-1]
        self.outputs = n_out if isinstance(n_out, int) else None

    def run(self, x: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self.input_name: x})[0]


class OpenCVEngine(Engine):
    """OpenCV DNN for fp32 models only: OpenCV 5's DNN silently mis-runs int8 QDQ graphs
    (the metadata and signature come from onnxruntime's reading of the same file)."""

    backend = "opencv"

    def __init__(self, path: Path, described: OrtEngine, threads: int | None) -> None:
        import cv2

        self.meta, self.input_shape = described.meta, described.input_shape
        self.outputs = described.outputs
        if self.backend not in backends_for(FORMATS["onnx"], self.meta.precision):
            raise EdgeferError(f"{path}: the opencv backend runs fp32 models only; OpenCV's DNN "
                               "gives wrong results for int8 QDQ models: use ort-cpu")
        if threads:
            cv2.setNumThreads(threads)
        try:
            self.net = cv2.dnn.readNetFromONNX(str(path))
        except cv2.error as e:
            raise EdgeferError(f"{path}: OpenCV DNN cannot load it ({first_line(e)})") from None

    def run(self, x: np.ndarray) -> np.ndarray:
        self.net.setInput(x)
        return np.asarray(self.net.forward(), np.float32).reshape(len(x), -1)


def import_openvino() -> ModuleType:
    """OpenVINO without its telemetry: `import openvino` otherwise sends a usage event to
    Intel's analytics (and writes a client id under ~/intel) unless the user opted out.
    Hiding `openvino_telemetry` makes OpenVINO fall back to its own no-op stub, so nothing of
    edgefer touches the network."""
    sys.modules.setdefault("openvino_telemetry", None)  # None: "import" raises ImportError
    import openvino

    return openvino


class OpenVinoEngine(Engine):
    """OpenVINO on the CPU, latency-tuned: an .onnx file read directly (QDQ int8 runs as int8)
    or an .xml IR from `edgefer export --format openvino`; the metadata travels inside both."""

    backend = "openvino"

    def __init__(self, path: Path, threads: int | None) -> None:
        core = import_openvino().Core()
        try:
            model = core.read_model(str(path))
        except Exception as e:  # openvino raises RuntimeError subclasses of its own
            raise EdgeferError(f"{path}: OpenVINO cannot read it ({first_line(e)})") from None
        if not model.has_rt_info(["framework", KEY]):
            raise EdgeferError(f"{path}: no '{KEY}' metadata: not an edgefer model "
                               "(export one with `edgefer export`)")
        self.meta = ModelMeta.from_json(model.get_rt_info(["framework", KEY]).astype(str),
                                        str(path))
        if len(model.inputs) != 1:
            raise EdgeferError(f"{path}: expected one input and an output")
        self.input_shape = [d.get_length() if d.is_static else None
                            for d in list(model.inputs[0].get_partial_shape())[1:]]
        last = model.outputs[0].get_partial_shape()[-1]
        self.outputs = last.get_length() if last.is_static else None
        config = {"PERFORMANCE_HINT": "LATENCY"}
        if threads:
            config["INFERENCE_NUM_THREADS"] = threads
        try:
            self.request = core.compile_model(model, "CPU", config).create_infer_request()
        except Exception as e:
            raise EdgeferError(f"{path}: OpenVINO cannot compile it ({first_line(e)})") from None

    def run(self, x: np.ndarray) -> np.ndarray:
        return self.request.infer({0: x})[0].copy()


class NcnnEngine(Engine):
    """ncnn on the CPU: NAME.ncnn.param and NAME.ncnn.bin from `edgefer export --format ncnn`,
    the metadata in NAME.ncnn.json beside them. ncnn takes one face per call: a batch is a loop.
    """

    backend = "ncnn"

    def __init__(self, path: Path, threads: int | None) -> None:
        import ncnn

        _, weights, described = model_files(path)
        for f in (weights, described):
            if not f.is_file():
                raise EdgeferError(f"{path}: {f.name} is missing beside it (an ncnn model is "
                                   f"the .param, .bin and .json from edgefer export)")
        self.meta = ModelMeta.from_json(described.read_text(), str(described))
        if self.meta.preprocess.layout != "NCHW":
            raise EdgeferError(f"{path}: ncnn models take NCHW input")
        self.input_name, self.output_name = _ncnn_blobs(path)
        self.net = ncnn.Net()
        self.net.opt.use_vulkan_compute = False
        if threads:
            self.net.opt.num_threads = threads
        if self.net.load_param(str(path)) != 0 or self.net.load_model(str(weights)) != 0:
            raise EdgeferError(f"{path}: ncnn cannot load it (a corrupt .param or .bin)")
        h, w = self.meta.preprocess.size
        probe = self.run(np.zeros((1, self.meta.preprocess.channels, h, w), np.float32))
        self.outputs = probe.shape[1]

    def run(self, x: np.ndarray) -> np.ndarray:
        import ncnn

        out = []
        for face in np.ascontiguousarray(x, np.float32):
            with self.net.create_extractor() as ex:
                ex.input(self.input_name, ncnn.Mat(face))
                status, probs = ex.extract(self.output_name)
                if status != 0:
                    raise EdgeferError("ncnn failed to run the model")
                out.append(np.array(probs, np.float32).reshape(-1))
        return np.stack(out) if out else np.zeros((0, len(self.meta.labels)), np.float32)


class LiteRtEngine(Engine):
    """LiteRT (TensorFlow Lite, XNNPACK) on the CPU: a .tflite file from `edgefer export
    --format tflite`, the metadata in its own metadata table. The model takes one face per
    call (litert-torch cannot convert these networks with a free batch size): a batch is a
    loop, as on ncnn. An int8 input or output is quantized and dequantized here."""

    backend = "litert"

    def __init__(self, path: Path, threads: int | None) -> None:
        from ai_edge_litert.interpreter import Interpreter

        from edgefer.runtime.tflite_file import check_identifier, read_metadata

        model = path.read_bytes()
        check_identifier(model, path)
        try:
            with no_stderr():  # LiteRT's C++ "INFO: Created ... XNNPACK delegate" line
                self.interpreter = Interpreter(model_content=model,
                                               num_threads=threads or os.cpu_count() or 1)
                self.interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as e:
            raise EdgeferError(f"{path}: LiteRT cannot load it ({first_line(e)})") from None
        self.meta = read_metadata(model, path)
        inputs, outputs = (self.interpreter.get_input_details(),
                           self.interpreter.get_output_details())
        if len(inputs) != 1 or len(outputs) != 1 or inputs[0]["shape"][0] != 1:
            raise EdgeferError(f"{path}: expected one input of one face and one output")
        self.input, self.output = inputs[0], outputs[0]
        self.input_shape = [int(d) for d in self.input["shape"][1:]]
        self.outputs = int(self.output["shape"][-1])

    def run(self, x: np.ndarray) -> np.ndarray:
        it = self.interpreter
        scale, zero = self.output["quantization"]
        out = np.zeros((len(x), self.outputs), np.float32)
        for i, face in enumerate(_quantize(x, self.input)):
            it.set_tensor(self.input["index"], face[None])
            it.invoke()
            y = it.get_tensor(self.output["index"])[0]
            out[i] = (y.astype(np.float32) - zero) * scale if scale else y
        return out


@contextlib.contextmanager
def no_stderr() -> Iterator[None]:
    """File descriptor 2 sent to /dev/null for the duration: native libraries' log lines."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _quantize(x: np.ndarray, detail: dict) -> np.ndarray:
    """`x` as the dtype of the tensor `detail` describes (int8: by its scale and zero point)."""
    scale, zero = detail["quantization"]
    if not scale:
        return np.ascontiguousarray(x, detail["dtype"])
    info = np.iinfo(detail["dtype"])
    return np.clip(np.round(x / scale) + zero, info.min, info.max).astype(detail["dtype"])


def _ncnn_blobs(path: Path) -> tuple[str, str]:
    """The input blob (the Input layer's) and output blob (the last layer's) of a .param file."""
    try:
        lines = [ln.split() for ln in path.read_text().splitlines()[2:] if ln.strip()]
        inputs = [ln[4 + int(ln[2])] for ln in lines if ln[0] == "Input"]
        last = lines[-1]
        output = last[4 + int(last[2]) + int(last[3]) - 1]
    except (UnicodeDecodeError, IndexError, ValueError):
        raise EdgeferError(f"{path}: not an ncnn .param file") from None
    if len(inputs) != 1:
        raise EdgeferError(f"{path}: expected one input and an output")
    return inputs[0], output
