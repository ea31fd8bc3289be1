"""edgefer's ONNX files with their `edgefer` metadata: written atomically (export), read
back as fp32 weights (warm starts, feature maps). Needs `onnx` (the train extra)."""

from __future__ import annotations

from pathlib import Path

import onnx

from edgefer.atomic import atomic_write
from edgefer.errors import EdgeferError
from edgefer.modelmeta import KEY, ModelMeta


def write_with_metadata(src: Path, meta: ModelMeta, dst: Path) -> None:
    """Copy the ONNX model at `src` to `dst` with `meta` stored under `metadata_props[edgefer]`."""
    model = onnx.load(str(src))
    kept = [p for p in model.metadata_props if p.key != KEY]
    del model.metadata_props[:]
    model.metadata_props.extend(kept)
    model.metadata_props.add(key=KEY, value=meta.to_json())
    model.producer_name = "edgefer"
    atomic_write(dst, lambda tmp: onnx.save(model, str(tmp)))


def load_fp32(path: Path, use: str) -> tuple[onnx.ModelProto, ModelMeta]:
    """An edgefer fp32 ONNX file and its metadata, for `use` (named in the errors): anything
    else (not ONNX, not edgefer's, int8) is refused with one line."""
    try:
        model = onnx.load(str(path))
    except Exception as e:  # protobuf's DecodeError and friends
        raise EdgeferError(f"{path}: not a loadable ONNX model ({str(e)[:120]})") from None
    meta = ModelMeta.from_model({p.key: p.value for p in model.metadata_props}, str(path))
    if meta.precision != "fp32":
        raise EdgeferError(f"{path}: {use} need the fp32 model, not {meta.precision}; use "
                           "its model.onnx twin")
    return model, meta
