"""Building blocks shared by the architectures."""

import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval, fuse_conv_bn_weights


def conv_bn_relu(cin: int, cout: int, bias: bool = False, stride: int = 1) -> nn.Sequential:
    """3x3 Conv-BN-ReLU: folds to one Conv+ReLU in ONNX and quantizes cleanly."""
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=bias),
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


def fold_batchnorm(model: nn.Module) -> nn.Module:
    """Fold every Conv2d directly followed by BatchNorm2d (in a Sequential) into the conv."""
    for conv_name, bn_name, conv, bn in conv_bn_pairs(model):
        model.set_submodule(conv_name, fuse_conv_bn_eval(conv, bn))
        model.set_submodule(bn_name, nn.Identity())
    return model


class RepConvBNReLU(nn.Module):
    """A 3x3 Conv-BN-ReLU that trains with parallel branches (RepVGG): 3x3 Conv-BN, 1x1
    Conv-BN and, when the widths match at stride 1, an identity BN, summed before the ReLU.
    `fused()` is the single `conv_bn_relu` block computing the same function in eval mode, so
    the deployed graph, its MACs and its latency are those of the plain block."""

    def __init__(self, cin: int, cout: int, stride: int = 1) -> None:
        super().__init__()
        self.conv3 = nn.Sequential(nn.Conv2d(cin, cout, 3, stride, padding=1, bias=False),
                                   nn.BatchNorm2d(cout))
        self.conv1 = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                   nn.BatchNorm2d(cout))
        self.identity = nn.BatchNorm2d(cout) if cin == cout and stride == 1 else None
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv3(x) + self.conv1(x)
        if self.identity is not None:
            y = y + self.identity(x)
        return self.relu(y)

    @torch.no_grad()
    def fused(self) -> nn.Sequential:
        """The equivalent `conv_bn_relu` block: one 3x3 kernel and a bias (held by an identity
        BatchNorm, as export folds it), in eval mode."""
        conv = self.conv3[0]
        cout, cin = conv.out_channels, conv.in_channels
        kernel, bias = _fold(conv.weight, self.conv3[1])
        k1, b1 = _fold(self.conv1[0].weight, self.conv1[1])
        kernel[:, :, 1:2, 1:2] += k1
        bias += b1
        if self.identity is not None:
            eye = torch.zeros_like(conv.weight)
            eye[torch.arange(cout), torch.arange(cin), 1, 1] = 1.0
            ki, bi = _fold(eye, self.identity)
            kernel += ki
            bias += bi
        block = conv_bn_relu(cin, cout, stride=conv.stride[0]).to(conv.weight.device)
        block[0].weight.copy_(kernel)
        bias_only(block[1], bias)
        return block.eval()


def _fold(weight: torch.Tensor, bn: nn.BatchNorm2d) -> tuple[torch.Tensor, torch.Tensor]:
    """A bias-free conv's kernel and the BatchNorm after it as one kernel and bias (eval)."""
    kernel, bias = fuse_conv_bn_weights(weight, None, bn.running_mean, bn.running_var, bn.eps,
                                        bn.weight, bn.bias)
    return kernel.detach(), bias.detach()


@torch.no_grad()
def bias_only(bn: nn.BatchNorm2d, bias: torch.Tensor) -> None:
    """Set `bn` to add `bias` and nothing else in eval mode (how a folded conv's bias rides
    in a Conv-BN pair)."""
    bn.running_mean.zero_(), bn.running_var.fill_(1 - bn.eps)
    bn.weight.fill_(1.0), bn.bias.copy_(bias)


def reparameterize(model: nn.Module) -> nn.Module:
    """`model` with every `RepConvBNReLU` replaced by its fused single-conv block."""
    for name, module in list(model.named_modules()):
        if isinstance(module, RepConvBNReLU):
            model.set_submodule(name, module.fused())
    return model
