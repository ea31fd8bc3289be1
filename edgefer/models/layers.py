"""Building blocks shared by the architectures."""

from torch import nn


def conv_bn_relu(cin: int, cout: int, bias: bool = False) -> nn.Sequential:
    """3x3 Conv-BN-ReLU: folds to one Conv+ReLU in ONNX and quantizes cleanly."""
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=bias),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


def conv_bn_pairs(model: nn.Module) -> list[tuple[str, str, nn.Conv2d, nn.BatchNorm2d]]:
    """(conv name, bn name, conv, bn) for every Conv2d directly followed by a BatchNorm2d in
    a Sequential: the pairs export folds into one conv and `train --init` unfolds."""
    pairs = []
    for name, module in model.named_modules():
        if isinstance(module, nn.Sequential):
            prefix = f"{name}." if name else ""
            for i in range(len(module) - 1):
                if isinstance(module[i], nn.Conv2d) and isinstance(module[i + 1], nn.BatchNorm2d):
                    pairs.append((f"{prefix}{i}", f"{prefix}{i + 1}", module[i], module[i + 1]))
    return pairs
