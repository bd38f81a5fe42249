#!/usr/bin/env python3
"""Training examples/s of the study's CIFAR models in PyTorch, the peer for
`ticket train --dataset cifar-10` (make bench-train). The ordinary PyTorch CPU
loop (zero_grad/backward/step, cross_entropy, SGD with momentum and weight
decay) on the same architectures as Sources/Networks/Models:

- conv-2 / conv-4 / conv-6: conv3x3 64-64 [-pool-128-128 [-pool-256-256]] (bias,
  ReLU), 2x2 max pools, fc 256-256-10;
- vgg-11 / vgg-16: conv3x3 (bias) + BN + ReLU per the plan, 2x2 pools, fc 512-10;
- resnet-20: conv3x3 16 (no bias) + BN + ReLU, 3 stages x 3 basic blocks of
  16/32/64 channels, stride 2 entering stages 2 and 3 with a 1x1 conv + BN
  shortcut there, relu(main + shortcut), global average pool, fc 64-10.

Images are the first LIMIT of CIFAR-10's data_batch_1.bin, scaled to
[0, 1] and standardised per channel (the figure measured is speed; the
normalisation only keeps the loss finite). Prints the parameter count on
stderr (compare with `ticket models`) and one CSV row on stdout:
model,threads,batch_size,examples,seconds,examples_per_second.

Usage: torch_cifar.py MODEL CIFAR10_BIN_DIR [LIMIT] (threads from
TORCH_NUM_THREADS, default 1; batch 128)."""
import os, sys, time
import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

CONV_PLANS = {
    "conv-2": [64, 64, "M"],
    "conv-4": [64, 64, "M", 128, 128, "M"],
    "conv-6": [64, 64, "M", 128, 128, "M", 256, 256, "M"],
}
VGG_PLANS = {
    "vgg-11": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg-16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
}

class Block(nn.Module):
    def __init__(self, inputs, width, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(inputs, width, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.shortcut = nn.Sequential()
        if stride != 1 or inputs != width:
            self.shortcut = nn.Sequential(nn.Conv2d(inputs, width, 1, stride, bias=False), nn.BatchNorm2d(width))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(y)) + self.shortcut(x))

def resnet20(classes=10):
    layers, channels = [nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU()], 16
    for stage, width in enumerate([16, 32, 64]):
        for block in range(3):
            layers.append(Block(channels, width, 2 if stage > 0 and block == 0 else 1))
            channels = width
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, classes))

def conv_stack(plan, batch_norm):
    layers, channels = [], 3
    for item in plan:
        if item == "M":
            layers.append(nn.MaxPool2d(2))
            continue
        layers.append(nn.Conv2d(channels, item, 3, 1, 1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(item))
        layers.append(nn.ReLU())
        channels = item
    return layers, channels

def build(name, classes=10):
    if name == "resnet-20":
        return resnet20(classes)
    if name in CONV_PLANS:
        plan = CONV_PLANS[name]
        layers, channels = conv_stack(plan, batch_norm=False)
        side = 32 >> plan.count("M")
        return nn.Sequential(*layers, nn.Flatten(), nn.Linear(channels * side * side, 256), nn.ReLU(),
                             nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, classes))
    layers, channels = conv_stack(VGG_PLANS[name], batch_norm=True)
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(channels, classes))

def load(directory, limit):
    raw = np.fromfile(os.path.join(directory, "data_batch_1.bin"), dtype=np.uint8).reshape(-1, 3073)[:limit]
    images = raw[:, 1:].reshape(-1, 3, 32, 32).astype(np.float32) / 255
    images = (images - images.mean(axis=(0, 2, 3), keepdims=True)) / images.std(axis=(0, 2, 3), keepdims=True)
    return torch.from_numpy(np.ascontiguousarray(images)), torch.from_numpy(raw[:, 0].astype(np.int64))

if __name__ == "__main__":
    name, directory = sys.argv[1], sys.argv[2]
    limit = int(sys.argv[3]) if len(sys.argv) > 3 else 2560
    threads = int(os.environ.get("TORCH_NUM_THREADS", "1"))
    batch = 128
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    x, y = load(directory, limit)
    model = build(name)
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
    print(f"{name}: parameters={sum(p.numel() for p in model.parameters())}", file=sys.stderr)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    model.train()
    order = torch.randperm(len(x))
    start = time.perf_counter()
    for s in range(0, len(x), batch):
        idx = order[s:s + batch]
        optimizer.zero_grad(set_to_none=True)
        F.cross_entropy(model(x[idx]), y[idx]).backward()
        optimizer.step()
    seconds = time.perf_counter() - start
    print(f"{name},{threads},{batch},{len(x)},{seconds:.4f},{len(x) / seconds:.1f}", flush=True)
