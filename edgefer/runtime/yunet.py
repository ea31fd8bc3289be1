"""YuNet through onnxruntime: the model made size-free, its 12 stride outputs decoded and
suppressed the way OpenCV's `FaceDetectorYN` does (objdetect/src/face_detect.cpp).

YuNet 2023mar is anchor-free: each cell (col, row) of the stride-s grid predicts a score
sqrt(cls * obj), a box centre (col + dx, row + dy) * s of size exp(dw) * s by exp(dh) * s,
and 5 landmarks (col + kx, row + ky) * s. The input is BGR float32 NCHW without
normalisation, zero-padded at the bottom and right to multiples of 32.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort

from edgefer.errors import EdgeferError, first_line
from edgefer.runtime.backends import session_options

STRIDES = (8, 16, 32)
OUTPUTS = [f"{kind}_{s}" for kind in ("cls", "obj", "bbox", "kps") for s in STRIDES]
DIVISOR = 32


class OrtYuNet:
    """One YuNet onnxruntime session: BGR image (any size) -> (N, 15) float32 rows of x, y,
    w, h, 5 landmarks (x, y) and score, in the image's pixels, best first."""

    def __init__(self, path: Path, score_threshold: float, nms_threshold: float, top_k: int,
                 threads: int | None = None) -> None:
        self.score_threshold, self.nms_threshold, self.top_k = (score_threshold,
                                                                nms_threshold, top_k)
        try:
            self.session = ort.InferenceSession(free_sizes(path.read_bytes()),
                                                session_options(threads, spinning=False),
                                                providers=["CPUExecutionProvider"])
        except Exception as e:  # ValueError from free_sizes, onnxruntime's own Fail/... types
            raise EdgeferError(f"{path}: not a YuNet face detector model "
                               f"({first_line(e)})") from None
        missing = set(OUTPUTS) - {o.name for o in self.session.get_outputs()}
        if missing or len(self.session.get_inputs()) != 1:
            raise EdgeferError(f"{path}: not a YuNet face detector model (expected one input "
                               f"and outputs {', '.join(OUTPUTS)})")
        self.input_name = self.session.get_inputs()[0].name

    def __call__(self, image: np.ndarray, score_threshold: float | None = None) -> np.ndarray:
        """Faces scoring at least `score_threshold` (default: the session's)."""
        score_threshold = self.score_threshold if score_threshold is None else score_threshold
        x = input_blob(image)
        out = dict(zip(OUTPUTS, self.session.run(OUTPUTS, {self.input_name: x}), strict=True))
        faces = decode(out, x.shape[3], score_threshold)
        return suppress(faces, score_threshold, self.nms_threshold, self.top_k)


def input_blob(image: np.ndarray) -> np.ndarray:
    """A BGR image as YuNet's 1x3xHxW float32 input, zero-padded to multiples of 32."""
    h, w = image.shape[:2]
    blob = np.zeros((1, 3, -(-h // DIVISOR) * DIVISOR, -(-w // DIVISOR) * DIVISOR), np.float32)
    for c, plane in enumerate(cv2.split(image)):  # contiguous planes: no strided transpose
        blob[0, c, :h, :w] = plane
    return blob


def decode(out: dict[str, np.ndarray], pad_w: int, score_threshold: float) -> np.ndarray:
    """Candidate rows (x, y, w, h, 10 landmark coordinates, score) scoring at least
    `score_threshold`, stride 8 first, each stride's cells row by row."""
    rows = [np.zeros((0, 15), np.float32)]
    for s in STRIDES:
        score = np.sqrt(np.clip(out[f"cls_{s}"].reshape(-1), 0, 1)
                        * np.clip(out[f"obj_{s}"].reshape(-1), 0, 1))
        keep = np.flatnonzero(score >= score_threshold)
        cell = np.stack([keep % (pad_w // s), keep // (pad_w // s)], 1).astype(np.float32)
        bbox = out[f"bbox_{s}"].reshape(-1, 4)[keep]
        size = np.exp(bbox[:, 2:]) * s
        corner = (cell + bbox[:, :2]) * s - size / 2
        marks = (out[f"kps_{s}"].reshape(-1, 5, 2)[keep] + cell[:, None]) * s
        rows.append(np.hstack([corner, size, marks.reshape(-1, 10), score[keep, None]]))
    return np.concatenate(rows).astype(np.float32)


def suppress(faces: np.ndarray, score_threshold: float, nms_threshold: float,
             top_k: int) -> np.ndarray:
    """OpenCV's NMS on boxes truncated to integers, as FaceDetectorYN does (which leaves a
    single candidate alone)."""
    if len(faces) < 2:
        return faces
    boxes = np.trunc(faces[:, :4]).astype(np.int32)
    keep = cv2.dnn.NMSBoxes(boxes, faces[:, 14], score_threshold, nms_threshold, 1.0, top_k)
    return faces[np.asarray(keep, np.int64).reshape(-1)]


def free_sizes(model: bytes) -> bytes:
    """The ONNX model with symbolic dimensions on its inputs and outputs and no recorded
    intermediate shapes, so onnxruntime runs it at any input size (OpenCV reshapes the net the
    same way). A protobuf rewrite by field number: the runtime needs no `onnx` package."""
    def value_info(vi: bytes) -> bytes:  # ValueInfoProto: name = 1, type.tensor_type.shape
        name = next((p for n, _, p in _fields(vi) if n == 1), b"t").decode(errors="replace")
        return _rewrite_at(vi, (2, 1, 2), lambda shape: _symbolic(shape, name))

    # ModelProto.graph = 7; GraphProto.input = 11, output = 12, value_info = 13
    return _rewrite_at(model, (7,), lambda g: _rewrite(g, {11: value_info, 12: value_info,
                                                           13: lambda _: None}))


def _symbolic(shape: bytes, name: str) -> bytes:
    """A TensorShapeProto of as many dimensions as `shape`, each a dim_param of its own."""
    rank = sum(n == 1 for n, _, _ in _fields(shape))
    return b"".join(_field(1, _field(2, f"{name}_{i}".encode())) for i in range(rank))


def _rewrite_at(buf: bytes, path: tuple[int, ...], edit: Callable[[bytes], bytes]) -> bytes:
    """`buf` with the message at field-number `path` replaced by its edit."""
    head, *rest = path
    return _rewrite(buf, {head: lambda p: _rewrite_at(p, tuple(rest), edit) if rest else edit(p)})


def _rewrite(buf: bytes, edits: dict[int, Callable[[bytes], bytes | None]]) -> bytes:
    """A protobuf message with its length-delimited fields numbered in `edits` replaced by
    the edit of their payload (None drops the field), every other field kept byte for byte."""
    out = []
    for number, raw, payload in _fields(buf):
        if number not in edits:
            out.append(raw)
        elif (new := edits[number](payload)) is not None:
            out.append(_field(number, new))
    return b"".join(out)


def _fields(buf: bytes) -> Iterator[tuple[int, bytes, bytes]]:
    """(field number, the field's raw bytes, its payload if length-delimited) of a message."""
    pos = 0
    while pos < len(buf):
        start = pos
        key, pos = _varint(buf, pos)
        payload = b""
        if key & 7 == 0:
            pos = _varint(buf, pos)[1]
        elif key & 7 in (1, 5):
            pos += 8 if key & 7 == 1 else 4
        elif key & 7 == 2:
            n, pos = _varint(buf, pos)
            payload = buf[pos:pos + n]
            pos += n
        else:
            raise ValueError(f"protobuf wire type {key & 7} at byte {start}")
        if pos > len(buf):
            raise ValueError("truncated protobuf")
        yield key >> 3, buf[start:pos], payload


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while pos < len(buf):
        byte = buf[pos]
        value |= (byte & 0x7F) << shift
        pos, shift = pos + 1, shift + 7
        if byte < 0x80:
            return value, pos
    raise ValueError("truncated protobuf")


def _field(number: int, payload: bytes) -> bytes:
    return _encode_varint(number << 3 | 2) + _encode_varint(len(payload)) + payload


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)
