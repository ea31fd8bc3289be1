"""The seed projects' CNNs, kept as baselines."""

from torch import nn

from edgefer.models.layers import conv_bn_relu
from edgefer.models.registry import register_model


def _blocks(cin: int, widths: tuple[int, ...], dropout: float = 0.0) -> list[nn.Module]:
    """Conv3x3(with bias)-BN-ReLU-MaxPool blocks, as the seed projects wrote them."""
    layers: list[nn.Module] = []
    for w in widths:
        layers += [conv_bn_relu(cin, w, bias=True), nn.MaxPool2d(2)]
        if dropout:
            layers.append(nn.Dropout(dropout))
        cin = w
    return layers


@register_model("seed-cnn", "4x Conv3x3-BN-ReLU-MaxPool (32-256), FC 2304-512-7, dropout 0.5")
def seed_cnn(num_classes: int = 7, in_channels: int = 1) -> nn.Module:
    """The 4-block seed CNN: exactly 1,572,551 parameters for 48x48 gray input."""
    return nn.Sequential(
        *_blocks(in_channels, (32, 64, 128, 256)),
        nn.Flatten(),
        nn.Linear(256 * 3 * 3, 512),
        nn.ReLU(inplace=True),
        nn.Dropout(0.5),
        nn.Linear(512, num_classes),
    )


@register_model("seed-cnn3", "3x Conv3x3-BN-ReLU-MaxPool-Dropout0.25 (32-128), dense 128-7")
def seed_cnn3(num_classes: int = 7, in_channels: int = 1) -> nn.Module:
    """The 3-block seed CNN."""
    return nn.Sequential(
        *_blocks(in_channels, (32, 64, 128), dropout=0.25),
        nn.Flatten(),
        nn.Linear(128 * 6 * 6, 128),
        nn.ReLU(inplace=True),
        nn.Dropout(0.25),
        nn.Linear(128, num_classes),
    )
