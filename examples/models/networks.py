"""Networks for `campaign.model = torchscript:PATH` (see export.py).

Every module takes images [N, C, H, W] (float32) and returns logits
[N, classes]. peppp puts a Format A quantizer point after the input and
after every functional op of its list (convolutions, linear/matmul/bmm,
batch/layer/group norm, activation functions, softmax, pooling, add/mul/cat;
`peppp memory` lists them), so these networks are written with functional
ops (F.relu(x), x + y), not in-place ones (relu_, +=), which get no point.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class SmallCnn(nn.Module):
    """peppp's zoo `small-cnn`, op for op, with the zoo's parameter names."""

    def __init__(self, channels: int, classes: int):
        super().__init__()
        self.features0_conv = nn.Conv2d(channels, 16, 3, padding=1, bias=False)
        self.features0_bn = nn.BatchNorm2d(16)
        self.features2_conv = nn.Conv2d(16, 32, 3, padding=1, bias=False)
        self.features2_bn = nn.BatchNorm2d(32)
        self.fc = nn.Linear(32 * 7 * 7, classes)

    def forward(self, x):
        x = F.relu(self.features0_bn(self.features0_conv(x)))
        x = F.max_pool2d(x, 2, 2, 0, 1, ceil_mode=True)
        x = F.relu(self.features2_bn(self.features2_conv(x)))
        x = F.max_pool2d(x, 2, 2, 0, 1, ceil_mode=True)
        x = F.adaptive_avg_pool2d(x, 7).flatten(1)
        return self.fc(x)


class Mlp(nn.Module):
    """The flattened image through linear-ReLU layers (peppp's zoo `mlp`: 256, 128, 64)."""

    def __init__(self, channels: int, classes: int, resolution: int, widths=(256, 128, 64)):
        super().__init__()
        layers = []
        n = channels * resolution * resolution
        for w in widths:
            layers.append(nn.Linear(n, w))
            n = w
        self.hidden = nn.ModuleList(layers)
        self.fc = nn.Linear(n, classes)

    def forward(self, x):
        x = x.flatten(1)
        for layer in self.hidden:
            x = F.relu(layer(x))
        return self.fc(x)


class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + self.shortcut(x))


class ResNet(nn.Module):
    """A small CIFAR-style ResNet (one BasicBlock per stage, widths 16/32/64, like the zoo's resnet8)."""

    def __init__(self, channels: int, classes: int, widths=(16, 32, 64)):
        super().__init__()
        self.stem = nn.Conv2d(channels, widths[0], 3, 1, 1, bias=False)
        self.stem_bn = nn.BatchNorm2d(widths[0])
        blocks = []
        cin = widths[0]
        for i, w in enumerate(widths):
            blocks.append(BasicBlock(cin, w, 1 if i == 0 else 2))
            cin = w
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        x = F.relu(self.stem_bn(self.stem(x)))
        x = self.blocks(x)
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        n, t, d = x.shape
        h = self.heads
        qkv = self.qkv(x).reshape(n, t, 3, h, d // h).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]                      # [N, heads, T, d / heads]
        scores = torch.matmul(q, k.transpose(-2, -1)) * self.scale
        attn = F.softmax(scores, dim=-1)
        out = torch.matmul(attn, v).transpose(1, 2).reshape(n, t, d)
        return self.proj(out)


class Block(nn.Module):
    """A pre-norm transformer encoder block."""

    def __init__(self, dim: int, heads: int, hidden: int):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))


class Vit(nn.Module):
    """A small vision transformer: patch embedding (patch 2 below 28 px, 4 from 28 px on, as the
    zoo's vit-tiny, and its sizes), position embedding, pre-norm blocks, final LayerNorm, mean
    over the tokens. Its attention is written the usual way (matmul, then * scale), so its
    points differ from vit-tiny's (one baddbmm for the scaled scores) by the extra mul."""

    def __init__(self, channels: int, classes: int, resolution: int, dim: int = 32, depth: int = 2,
                 heads: int = 2, hidden: int = 64):
        super().__init__()
        patch = 2 if resolution < 28 else 4
        tokens = (resolution // patch) ** 2
        self.patch_embed = nn.Conv2d(channels, dim, patch, patch)
        self.pos_embed = nn.Parameter(torch.randn(1, tokens, dim) * 0.02)
        self.blocks = nn.Sequential(*[Block(dim, heads, hidden) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)
        self.fc = nn.Linear(dim, classes)

    def forward(self, x):
        x = self.patch_embed(x).flatten(2).transpose(1, 2) + self.pos_embed
        x = self.norm(self.blocks(x))
        return self.fc(x.mean(dim=1))


NETWORKS = {"small-cnn": SmallCnn, "mlp": Mlp, "resnet": ResNet, "vit": Vit}


def build(name: str, channels: int, classes: int, resolution: int) -> nn.Module:
    """The network `name` of NETWORKS for images [channels, resolution, resolution]."""
    if name in ("mlp", "vit"):
        return NETWORKS[name](channels, classes, resolution)
    return NETWORKS[name](channels, classes)
