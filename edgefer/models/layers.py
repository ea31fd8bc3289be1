"""Building blocks shared by the architectures."""

from torch import nn


def conv_bn_relu(cin: int, cout: int, bias: bool = False) -> nn.Sequential:
    """3x3 Conv-BN-ReLU: folds to one Conv+ReLU in ONNX and quantizes cleanly."""
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=bias),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )
