"""The `edgefer` metadata every exported ONNX file carries, so a model describes itself.

Stored as JSON under the key `edgefer` in the model's `metadata_props`; read here without
torch or the onnx package (onnxruntime exposes it as custom metadata).
"""

from __future__ import annotations

import json

from edgefer.errors import EdgeferError
from edgefer.preprocess import Preprocess

KEY = "edgefer"
PRECISIONS = ("fp32", "int8")


def parse_metadata(custom: dict[str, str], source: str) -> dict:
    """Validate the `edgefer` entry of a model's metadata; EdgeferError names what is wrong."""
    if KEY not in custom:
        raise EdgeferError(f"{source}: no '{KEY}' metadata: not an edgefer model "
                           "(export one with `edgefer export`)")
    try:
        meta = json.loads(custom[KEY])
    except (json.JSONDecodeError, TypeError):
        raise EdgeferError(f"{source}: '{KEY}' metadata is not valid JSON") from None
    if not isinstance(meta, dict):
        raise EdgeferError(f"{source}: '{KEY}' metadata must be a JSON object")
    labels = meta.get("labels")
    if not isinstance(labels, list) or len(labels) < 2 or \
            not all(isinstance(x, str) for x in labels):
        raise EdgeferError(f"{source}: metadata 'labels' must be a list of class names")
    if meta.get("precision") not in PRECISIONS:
        raise EdgeferError(f"{source}: metadata 'precision' must be one of {PRECISIONS}")
    meta["preprocess"] = Preprocess.from_dict(meta.get("input"))
    return meta


def dump_metadata(meta: dict) -> str:
    """The JSON text to store (without the parsed `preprocess` object)."""
    return json.dumps({k: v for k, v in meta.items() if k != "preprocess"}, sort_keys=True)
