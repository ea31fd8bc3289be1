"""A LiteRT (.tflite) model file's `edgefer` metadata: an entry of the flatbuffer's own
metadata table (name `edgefer`, a buffer holding the JSON), read by the runtime and written
by export. Needs `ai_edge_litert` (the litert extra)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgefer.errors import EdgeferError
from edgefer.modelmeta import KEY, ModelMeta

IDENTIFIER = b"TFL3"  # the flatbuffer file identifier of LiteRT models, bytes 4-8


def check_identifier(model: bytes, path: Path) -> None:
    """EdgeferError unless `model` (the bytes of `path`) starts as a LiteRT flatbuffer does."""
    if model[4:8] != IDENTIFIER:
        raise EdgeferError(f"{path}: not a LiteRT (.tflite) model")


def read_metadata(model: bytes, path: Path) -> ModelMeta:
    """The metadata of the LiteRT model `model` (the bytes of `path`, named in the errors)."""
    from ai_edge_litert import schema_py_generated as schema

    check_identifier(model, path)
    try:
        root = schema.Model.GetRootAsModel(model, 0)
        for k in range(root.MetadataLength()):
            entry = root.Metadata(k)
            if entry.Name() == KEY.encode():
                text = root.Buffers(entry.Buffer()).DataAsNumpy().tobytes().decode()
                return ModelMeta.from_json(text, str(path))
    except (IndexError, ValueError, TypeError, AttributeError, UnicodeDecodeError):
        raise EdgeferError(f"{path}: a corrupt LiteRT (.tflite) model") from None
    raise EdgeferError(f"{path}: no '{KEY}' metadata: not an edgefer model "
                       "(export one with `edgefer export --format tflite`)")


def with_metadata(model: bytes, meta: ModelMeta) -> bytes:
    """The LiteRT model `model` with `meta` as its `edgefer` metadata entry (replacing one)."""
    from ai_edge_litert import schema_py_generated as schema
    from ai_edge_litert.tools import flatbuffer_utils

    obj = flatbuffer_utils.read_model_from_bytearray(bytearray(model))
    entries = [m for m in obj.metadata or [] if m.name not in (KEY, KEY.encode())]
    buffer = schema.BufferT()
    buffer.data = np.frombuffer(meta.to_json().encode(), np.uint8)
    obj.buffers.append(buffer)
    entry = schema.MetadataT()
    entry.name, entry.buffer = KEY, len(obj.buffers) - 1
    obj.metadata = [*entries, entry]
    return bytes(flatbuffer_utils.convert_object_to_bytearray(obj))
