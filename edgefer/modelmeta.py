"""The `edgefer` metadata every exported ONNX file carries, so a model describes itself.

One schema, `ModelMeta`, written by `edgefer export` and read by the runtime: stored as JSON
under the key `edgefer` in the model's `metadata_props`, read without torch or the onnx
package (onnxruntime exposes it as custom metadata).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields

from edgefer.errors import EdgeferError
from edgefer.preprocess import Preprocess

KEY = "edgefer"
FORMAT = "edgefer-model"
VERSION = 1  # raise when a reader of the old version could misread the new one
PRECISIONS = ("fp32", "fp16", "int8")  # fp16: ncnn files (fp16 weights)


@dataclass(frozen=True)
class ModelMeta:
    """What a model file says about itself: labels, input, precision and provenance."""

    labels: list[str]
    preprocess: Preprocess
    precision: str
    arch: str | None = None
    params: int | None = None
    macs: int | None = None
    source: dict = field(default_factory=dict)  # checkpoint file name and epoch
    calibration: dict | None = None  # int8: method, samples, seed, split, types
    metrics: dict = field(default_factory=dict)  # val/test accuracy measured at export
    held_out: dict | None = None  # cross-fitting: {"fold": i, "folds": k} of Training unseen
    edgefer: str | None = None  # the version that exported it
    output: str = "probabilities"

    def to_json(self) -> str:
        """The JSON text stored in the model (`preprocess` under the key `input`)."""
        d = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "preprocess"}
        d = {k: v for k, v in d.items() if v is not None}
        return json.dumps({"format": FORMAT, "version": VERSION, "input":
                           self.preprocess.to_dict(), **d}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str, source: str) -> ModelMeta:
        """Parse and validate; EdgeferError names the file and what is wrong."""
        try:
            d = json.loads(text)
        except (json.JSONDecodeError, TypeError):
            raise EdgeferError(f"{source}: '{KEY}' metadata is not valid JSON") from None
        if not isinstance(d, dict):
            raise EdgeferError(f"{source}: '{KEY}' metadata must be a JSON object")
        if d.get("format", FORMAT) != FORMAT:
            raise EdgeferError(f"{source}: metadata format {d.get('format')!r} is not {FORMAT}")
        version = d.get("version", VERSION)
        if not isinstance(version, int) or isinstance(version, bool) or version > VERSION:
            raise EdgeferError(f"{source}: metadata version {version!r} is newer than this "
                               f"edgefer reads ({VERSION}): upgrade edgefer")
        labels = d.get("labels")
        if not isinstance(labels, list) or len(labels) < 2 or \
                not all(isinstance(x, str) for x in labels):
            raise EdgeferError(f"{source}: metadata 'labels' must be a list of class names")
        if d.get("precision") not in PRECISIONS:
            raise EdgeferError(f"{source}: metadata 'precision' must be one of {PRECISIONS}")
        optional = {"arch": str, "params": int, "macs": int, "source": dict,
                    "calibration": dict, "metrics": dict, "edgefer": str, "output": str,
                    "held_out": dict}
        known = {}
        for name, kind in optional.items():
            if d.get(name) is not None:
                if not isinstance(d[name], kind):
                    raise EdgeferError(f"{source}: metadata '{name}' must be a {kind.__name__}")
                known[name] = d[name]
        held = known.get("held_out")
        if held is not None and not (
                all(type(held.get(k)) is int for k in ("fold", "folds"))
                and 0 <= held["fold"] < held["folds"]):
            raise EdgeferError(f"{source}: metadata 'held_out' must be "
                               '{"fold": i, "folds": k} with 0 <= i < k')
        return cls(labels=labels, preprocess=Preprocess.from_dict(d.get("input")),
                   precision=d["precision"], **known)

    @classmethod
    def from_model(cls, custom: dict[str, str], source: str) -> ModelMeta:
        """The metadata of a model's custom metadata map (as onnxruntime gives it)."""
        if KEY not in custom:
            raise EdgeferError(f"{source}: no '{KEY}' metadata: not an edgefer model "
                               "(export one with `edgefer export`)")
        return cls.from_json(custom[KEY], source)
