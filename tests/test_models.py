"""Architectures: the seed CNN's exact size, every registered model runs and is counted."""

import pytest
import torch

from edgefer.errors import EdgeferError
from edgefer.models import count_macs, count_params, create_model, list_models


def test_seed_cnn_has_the_seed_spec_parameter_count():
    assert count_params(create_model("seed-cnn")) == 1_572_551


@pytest.mark.parametrize("name", list(list_models()))
def test_models_forward_and_profile(name):
    model = create_model(name).eval()
    assert model(torch.zeros(2, 1, 48, 48)).shape == (2, 7)
    assert count_macs(model) > count_params(model) > 100_000


def test_edge_v2_strides_its_stem_instead_of_pooling():
    edge, v2 = create_model("edge"), create_model("edge-v2")
    pools = [sum(isinstance(m, torch.nn.MaxPool2d) for m in n.features) for n in (edge, v2)]
    assert pools == [3, 2]
    assert v2.features[0][0].stride == (2, 2)
    stem = 48 * 48 * 24 * 9  # edge's stem at 48 px; edge-v2's at 24 px
    last = 6 * 6 * 9 * (96 * 64 + 256 * 256 - 192 * 192)  # the last stage 256 wide, not 192
    head = 64 * 7
    assert count_macs(v2) - count_macs(edge) == last + head - 3 * stem // 4


def test_macs_of_a_single_conv():
    conv = torch.nn.Conv2d(1, 8, 3, padding=1)
    assert count_macs(conv) == 48 * 48 * 8 * 9


def test_unknown_model():
    with pytest.raises(EdgeferError, match="unknown model"):
        create_model("resnet-9000")


def test_models_cli_lists_every_model():
    from helpers import run_cli

    out = run_cli("models").stdout
    assert all(name in out for name in list_models())
    assert "1,572,551" in out
