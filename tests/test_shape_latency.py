"""benchmarks/shape_latency.py times an untrained shape as the file `edgefer export --int8`
would ship for it."""

from __future__ import annotations

import onnx
import pytest
from helpers import REPO, load_script

from edgefer.errors import BadArgumentError
from edgefer.models import create_model
from edgefer.runtime.assets import ASSETS

shape_latency = load_script(REPO / "benchmarks" / "shape_latency.py")


def test_shapes_are_widths_and_depths_per_stage():
    for shape, name in (("24-48-96-192:1-2-2-2", "edge"), ("24-48-96-256:1-2-2-2:2", "edge-v2")):
        net = shape_latency.parse_shape(shape)
        assert str(net) == str(create_model(name))
    for bad in ("24-48:1", "24-48", "24-x:1-2", "0-48:1-2", "24-48:1-2:3", "24-48:1-2:2:2"):
        with pytest.raises(BadArgumentError, match="shape"):
            shape_latency.parse_shape(bad)


def test_an_untrained_edge_quantizes_to_the_shipped_edge_graph(small_npz, tmp_path):
    from edgefer.data import load_faces

    calib = load_faces(small_npz).split("train")
    net = shape_latency.parse_shape("24-48-96-192:1-2-2-2")
    probe = onnx.load(str(shape_latency.int8_file(net, calib, tmp_path))).graph
    shipped = onnx.load(str(ASSETS / "edge.int8.onnx")).graph

    def ops(graph):
        return [n.op_type for n in graph.node]

    def weight_shapes(graph):
        return sorted(tuple(t.dims) for t in graph.initializer if len(t.dims) == 4)

    assert ops(probe) == ops(shipped)
    assert weight_shapes(probe) == weight_shapes(shipped)
