"""`ExportOptions`: every option of `edgefer export` and its default, defined once (the CLI
reads its defaults here). Torch-free, so the CLI can show them without the train extra."""

from __future__ import annotations

from dataclasses import dataclass

from edgefer.errors import BadArgumentError
from edgefer.export.formats import check_formats

CALIB_METHODS = ("minmax", "entropy", "percentile")
ACTIVATION_TYPES = ("uint8", "int8")
# which int8 weights keep to a 7-bit range, and how the export report describes it
REDUCE_RANGES = {"stem": "7-bit range in the stem", "all": "7-bit range", "none": "8-bit range"}


@dataclass
class ExportOptions:
    """Options of `edgefer export` / `export_model`."""

    int8: bool = False
    calib_size: int = 1000  # stratified Training faces to calibrate on
    calib_method: str = "minmax"
    activations: str = "uint8"
    max_drop: float = 1.0  # allowed int8 val accuracy loss, in points
    seed: int = 0  # calibration sample seed
    latency_runs: int = 500
    reduce_range: str = "stem"  # 7-bit weights where AVX2 CPUs without VNNI would saturate
    formats: tuple[str, ...] = ("onnx",)  # also: openvino, ncnn (converted from the ONNX files)
    val_only: bool = False  # measure on val alone: an A/B arm leaves the test split unread

    @property
    def splits(self) -> tuple[str, ...]:
        """The splits the export measures accuracy on."""
        return ("val",) if self.val_only else ("val", "test")

    def check(self) -> None:
        """BadArgumentError for a value outside its choices, before any work starts."""
        check_formats(list(self.formats))
        if self.int8 and self.calib_size < 1:
            raise BadArgumentError(f"calib_size must be at least 1, not {self.calib_size}")
        for name, value, choices in (("calib_method", self.calib_method, CALIB_METHODS),
                                     ("activations", self.activations, ACTIVATION_TYPES),
                                     ("reduce_range", self.reduce_range, REDUCE_RANGES)):
            if value not in choices:
                raise BadArgumentError(f"{name} must be one of {', '.join(choices)}, "
                                       f"not {value!r}")
        if self.latency_runs < 1:
            raise BadArgumentError(f"latency_runs must be at least 1, not {self.latency_runs}")
