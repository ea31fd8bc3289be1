"""`edge`: a plain VGG-style CNN sized for accuracy per int8 millisecond on small CPUs.

Only Conv-BN-ReLU, max-pool, global average pool and one linear layer: every op folds and
quantizes in onnxruntime (QLinearConv/MaxPool/GlobalAveragePool/Gemm), no exotic kernels.
Stages run at 48, 24, 12 and 6 pixels; width and depth per stage set the cost.
"""

from torch import nn

from edgefer.models.layers import RepConvBNReLU, conv_bn_relu
from edgefer.models.registry import register_model


class EdgeNet(nn.Module):
    """Stages of (width, depth) 3x3 Conv-BN-ReLU blocks, each stage but the last max-pooled;
    `reparam` trains each block with parallel branches (`RepConvBNReLU`), fused for export."""

    def __init__(
        self,
        stages: tuple[tuple[int, int], ...],
        num_classes: int = 7,
        in_channels: int = 1,
        dropout: float = 0.3,
        reparam: bool = False,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        cin = in_channels
        block = RepConvBNReLU if reparam else conv_bn_relu
        for i, (width, depth) in enumerate(stages):
            for _ in range(depth):
                layers.append(block(cin, width))
                cin = width
            if i < len(stages) - 1:
                layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(dropout), nn.Linear(cin, num_classes))

    def forward(self, x):
        return self.head(self.pool(self.features(x)))


_SIZES = {
    "edge-s": ((16, 1), (32, 2), (64, 2), (128, 2)),
    "edge": ((24, 1), (48, 2), (96, 2), (192, 2)),
    "edge-l": ((32, 1), (64, 2), (128, 2), (256, 2)),
    "edge-xl": ((64, 2), (128, 2), (256, 2), (512, 2)),  # a teacher: VGG-style, 4.7M params
}


def _register(name: str, stages: tuple[tuple[int, int], ...]) -> None:
    widths = "-".join(str(w) for w, _ in stages)
    depths = "-".join(str(d) for _, d in stages)

    @register_model(name, f"EdgeNet widths {widths}, depths {depths}, GAP head", reparam=True)
    def build(num_classes: int = 7, in_channels: int = 1, reparam: bool = False) -> nn.Module:
        return EdgeNet(stages, num_classes=num_classes, in_channels=in_channels, reparam=reparam)


for _name, _stages in _SIZES.items():
    _register(_name, _stages)
