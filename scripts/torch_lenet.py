#!/usr/bin/env python3
"""One epoch of LeNet-300-100 on MNIST (batch 60) in PyTorch, the peer the
trainer issue names. The ordinary PyTorch loop (nn.Sequential, cross_entropy,
zero_grad/backward/step) with the same model, normalisation and Kaiming-normal
initialisation as `ticket train`; prints one CSV row per optimizer:
optimizer,threads,seconds,examples_per_second,test_accuracy.

Usage: torch_lenet.py [MNIST_DIR] (threads from TORCH_NUM_THREADS, default 1)."""
import os, sys, time
import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from numpy_lenet import load

def epoch(optimizer_name, xtr, ytr, xte, yte, lr, batch=60, seed=1):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(784, 300), nn.ReLU(), nn.Linear(300, 100), nn.ReLU(), nn.Linear(100, 10))
    for layer in model:
        if isinstance(layer, nn.Linear):
            nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
            nn.init.zeros_(layer.bias)
    if optimizer_name == "sgd":
        optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    else:
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    order = torch.randperm(len(xtr))
    start = time.perf_counter()
    for s in range(0, len(xtr), batch):
        idx = order[s:s + batch]
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(xtr[idx]), ytr[idx])
        loss.backward()
        optimizer.step()
    seconds = time.perf_counter() - start
    with torch.no_grad():
        accuracy = float((model(xte).argmax(1) == yte).float().mean())
    return seconds, len(xtr) / seconds, accuracy

if __name__ == "__main__":
    directory = sys.argv[1] if len(sys.argv) > 1 else "datasets/mnist"
    threads = int(os.environ.get("TORCH_NUM_THREADS", "1"))
    torch.set_num_threads(threads)
    xtr, ytr, xte, yte = (torch.from_numpy(np.ascontiguousarray(a)) for a in load(directory))
    for optimizer, lr in [("sgd", 0.1), ("adam", 1.2e-3)]:
        seconds, rate, accuracy = epoch(optimizer, xtr, ytr, xte, yte, lr=lr)
        print(f"{optimizer},{threads},{seconds:.4f},{rate:.1f},{accuracy:.4f}", flush=True)
