"""`edge`: a plain VGG-style CNN sized for accuracy per int8 millisecond on small CPUs.

Only Conv-BN-ReLU, max-pool, global average pool and one linear layer: every op folds and
quantizes in onnxruntime (QLinearConv/MaxPool/GlobalAveragePool/Gemm), no exotic kernels.
Stages run at 48, 24, 12 and 6 pixels; width and depth per stage set the cost. A stride-2
stem (`edge-v2`) runs the first convolution at 24 pixels instead and drops the pool after
it: in onnxruntime's int8 kernels that one-channel convolution costs `edge` about a sixth of
its time for 1% of its MACs (benchmarks/shape_latency.md), time spent on a wider last stage
instead."""

from torch import nn

from edgefer.models.layers import RepConvBNReLU, conv_bn_relu
from edgefer.models.registry import register_model


class EdgeNet(nn.Module):
    """Stages of (width, depth) 3x3 Conv-BN-ReLU blocks, each stage but the last max-pooled
    (the first instead strided, with `stem_stride` 2); `reparam` trains each block with
    parallel branches (`RepConvBNReLU`), fused for export."""

    def __init__(
        self,
        stages: tuple[tuple[int, int], ...],
        num_classes: int = 7,
        in_channels: int = 1,
        dropout: float = 0.3,
        reparam: bool = False,
        stem_stride: int = 1,
    ) -> None:
        super().__init__()
        self.stages, self.stem_stride = stages, stem_stride
        layers: list[nn.Module] = []
        cin = in_channels
        block = RepConvBNReLU if reparam else conv_bn_relu
        for i, (width, depth) in enumerate(stages):
            for j in range(depth):
                layers.append(block(cin, width, stride=stem_stride if i == j == 0 else 1))
                cin = width
            if i < len(stages) - 1 and (i > 0 or stem_stride == 1):
                layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(dropout), nn.Linear(cin, num_classes))

    def forward(self, x):
        return self.head(self.pool(self.features(x)))


# name: (stages, stem stride)
_SIZES = {
    "edge-s": (((16, 1), (32, 2), (64, 2), (128, 2)), 1),
    "edge": (((24, 1), (48, 2), (96, 2), (192, 2)), 1),
    "edge-v2": (((24, 1), (48, 2), (96, 2), (256, 2)), 2),  # edge's latency, more robust
    "edge-w": (((24, 1), (48, 2), (96, 2), (224, 2)), 1),  # edge's last stage widened: 1.16x
    "edge-l": (((32, 1), (64, 2), (128, 2), (256, 2)), 1),
    "edge-xl": (((64, 2), (128, 2), (256, 2), (512, 2)), 1),  # a teacher: VGG-style, 4.7M params
}


def _register(name: str, stages: tuple[tuple[int, int], ...], stem_stride: int) -> None:
    widths = "-".join(str(w) for w, _ in stages)
    depths = "-".join(str(d) for _, d in stages)
    stem = ", stride-2 stem" if stem_stride == 2 else ""

    @register_model(name, f"EdgeNet widths {widths}, depths {depths}{stem}, GAP head",
                    reparam=True)
    def build(num_classes: int = 7, in_channels: int = 1, reparam: bool = False) -> nn.Module:
        return EdgeNet(stages, num_classes=num_classes, in_channels=in_channels, reparam=reparam,
                       stem_stride=stem_stride)


for _name, (_stages, _stride) in _SIZES.items():
    _register(_name, _stages, _stride)
