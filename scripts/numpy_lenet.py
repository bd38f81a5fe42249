#!/usr/bin/env python3
"""One epoch of LeNet-300-100 on MNIST in numpy (batch 60), the peer that
`make bench-train` compares against. Same model, normalisation, Kaiming-normal
initialisation and PyTorch-style SGD/Adam as `ticket train`; prints one CSV row
per optimizer: optimizer,threads,seconds,examples_per_second,test_accuracy.

Run with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset so OpenBLAS picks its
AVX-512 kernels, and OPENBLAS_NUM_THREADS set to the thread count."""
import gzip, os, sys, time
import numpy as np

def load(directory):
    def read(name, offset):
        with gzip.open(os.path.join(directory, name), "rb") as f:
            return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)
    xtr = read("train-images-idx3-ubyte.gz", 16).reshape(-1, 784)
    ytr = read("train-labels-idx1-ubyte.gz", 8).astype(np.int64)
    xte = read("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 784)
    yte = read("t10k-labels-idx1-ubyte.gz", 8).astype(np.int64)
    p = xtr.astype(np.float64) / 255
    mean, std = p.mean(), p.std()
    norm = lambda x: ((x.astype(np.float32) / 255 - mean) / std).astype(np.float32)
    return norm(xtr), ytr, norm(xte), yte

def epoch(optimizer, xtr, ytr, xte, yte, lr, batch=60, seed=1):
    rng = np.random.default_rng(seed)
    sizes = [784, 300, 100, 10]
    W = [(rng.standard_normal((o, i)) * np.sqrt(2 / i)).astype(np.float32) for i, o in zip(sizes, sizes[1:])]
    b = [np.zeros(o, np.float32) for o in sizes[1:]]
    params = W + b
    state = [[np.zeros_like(p), np.zeros_like(p)] for p in params]
    order = rng.permutation(len(xtr))
    start = time.perf_counter()
    t = 0
    for s in range(0, len(xtr), batch):
        idx = order[s:s + batch]
        x, y = xtr[idx], ytr[idx]
        n = len(idx)
        h1 = np.maximum(x @ W[0].T + b[0], 0)
        h2 = np.maximum(h1 @ W[1].T + b[1], 0)
        z = h2 @ W[2].T + b[2]
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        g3 = e / e.sum(axis=1, keepdims=True)
        g3[np.arange(n), y] -= 1
        g3 /= n
        dW3 = g3.T @ h2; db3 = g3.sum(0)
        g2 = (g3 @ W[2]) * (h2 > 0)
        dW2 = g2.T @ h1; db2 = g2.sum(0)
        g1 = (g2 @ W[1]) * (h1 > 0)
        dW1 = g1.T @ x; db1 = g1.sum(0)
        grads = [dW1, dW2, dW3, db1, db2, db3]
        t += 1
        for p, g, (m, v) in zip(params, grads, state):
            if optimizer == "sgd":
                p -= lr * g
            else:
                m *= 0.9; m += 0.1 * g
                v *= 0.999; v += 0.001 * g * g
                p -= (lr / (1 - 0.9 ** t)) * m / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
    seconds = time.perf_counter() - start
    h = np.maximum(xte @ W[0].T + b[0], 0)
    h = np.maximum(h @ W[1].T + b[1], 0)
    accuracy = float(((h @ W[2].T + b[2]).argmax(1) == yte).mean())
    return seconds, len(xtr) / seconds, accuracy

if __name__ == "__main__":
    directory = sys.argv[1] if len(sys.argv) > 1 else "datasets/mnist"
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "?")
    data = load(directory)
    for optimizer, lr in [("sgd", 0.1), ("adam", 1.2e-3)]:
        seconds, rate, accuracy = epoch(optimizer, *data, lr=lr)
        print(f"{optimizer},{threads},{seconds:.4f},{rate:.1f},{accuracy:.4f}")
