"""Write the `edgefer` metadata into an ONNX file (atomically)."""

from __future__ import annotations

from pathlib import Path

import onnx

from edgefer.atomic import atomic_write
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
