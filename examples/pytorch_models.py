"""The five PyTorch models euler is tested and benchmarked on, at two sizes.

    from pytorch_models import models
    for name, (model, inputs) in models("small").items(): ...

`small` keeps the test suite fast; `bench` is what benchmarks/torch_models.py
times. Also usable from the CLI: `euler torch-coverage pytorch_models:gpt_block`
(with examples/ on PYTHONPATH).
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


def MLP(din=32, hidden=64, dout=10):
    return nn.Sequential(nn.Linear(din, hidden), nn.ReLU(), nn.Linear(hidden, hidden),
                         nn.GELU(), nn.Linear(hidden, dout))


class SmallCNN(nn.Module):
    """conv-bn-relu-maxpool, conv-bn-relu-avgpool, linear."""

    def __init__(self, c1=8, c2=16, image=16):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, c1, 3, padding=1), nn.BatchNorm2d(c1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 3, padding=1, bias=False), nn.BatchNorm2d(c2), nn.ReLU(),
            nn.AvgPool2d(2))
        self.fc = nn.Linear(c2 * (image // 4) ** 2, 10)

    def forward(self, x):
        return self.fc(torch.flatten(self.features(x), 1))


class BasicBlock(nn.Module):
    """torchvision's ResNet BasicBlock with a strided projection shortcut."""

    def __init__(self, cin=8, cout=16, stride=2):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                        nn.BatchNorm2d(cout))

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + self.downsample(x))


class GPTBlock(nn.Module):
    """A nanoGPT decoder block: causal self-attention written with plain ops."""

    def __init__(self, d=32, heads=4, ctx=16):
        super().__init__()
        self.heads = heads
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.fc, self.out = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)
        self.register_buffer("mask", torch.tril(torch.ones(ctx, ctx)).view(1, 1, ctx, ctx))

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(C, dim=2)
        q, k, v = (t.view(B, T, self.heads, C // self.heads).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-2, -1)) * (1.0 / (C // self.heads) ** 0.5)
        att = att.masked_fill(self.mask[:, :, :T, :T] == 0, float("-inf"))
        y = (F.softmax(att, dim=-1) @ v).transpose(1, 2).contiguous().view(B, T, C)
        x = x + self.proj(y)
        return x + self.out(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))


def _randn(*shape):
    return lambda: (torch.randn(*shape),)


# name -> (model factory, example-input factory), per size.
_SIZES = {
    "small": {
        "mlp": (MLP, _randn(8, 32)),
        "cnn": (SmallCNN, _randn(2, 3, 16, 16)),
        "resnet_block": (BasicBlock, _randn(2, 8, 12, 12)),
        "transformer": (lambda: nn.TransformerEncoderLayer(32, 4, 64, batch_first=True),
                        _randn(2, 10, 32)),
        "gpt_block": (GPTBlock, _randn(2, 12, 32)),
    },
    "bench": {
        "mlp": (lambda: MLP(512, 1024, 10), _randn(64, 512)),
        "cnn": (lambda: SmallCNN(32, 64, 32), _randn(8, 3, 32, 32)),
        "resnet_block": (lambda: BasicBlock(64, 128, 2), _randn(8, 64, 28, 28)),
        "transformer": (lambda: nn.TransformerEncoderLayer(256, 4, 1024, batch_first=True),
                        _randn(4, 64, 256)),
        "gpt_block": (lambda: GPTBlock(256, 4, 128), _randn(4, 64, 256)),
    },
}


def models(size="small"):
    """{name: (model factory, example-input factory)} at `size` ("small" or "bench")."""
    return dict(_SIZES[size])


def gpt_block():
    """For `euler torch-coverage pytorch_models:gpt_block`: (model, example inputs)."""
    factory, inputs = _SIZES["small"]["gpt_block"]
    return factory().eval(), inputs()
