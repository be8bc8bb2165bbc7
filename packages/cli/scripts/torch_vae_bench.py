"""PyTorch reference of the default zhusuan VAE training step, for `zhusuan bench`.

Same model as packages/cli/src/vae/model.ts: 784-500-500 ReLU encoder giving the
mean and log-std of a 40-d Gaussian, 40-500-500-784 ReLU decoder giving Bernoulli
logits, one reparameterised sample, ELBO, Adam(1e-3), batch 128, real MNIST
batches, shuffled and dynamically binarised as the trainer does. Prints one JSON
line: {"ms_per_step": ..., "threads": ..., "blas_threads": ...}: torch's
intra-op threads, and the threads of the OpenBLAS library torch's matrix
products run on (its own pool, which torch.set_num_threads does not limit;
null when the BLAS is not OpenBLAS).
"""
import argparse
import ctypes
import json
import math
import os
import time

import numpy as np
import torch
from torch import nn


def openblas_threads():
    """Threads of the OpenBLAS loaded into this process, or None."""
    with open("/proc/self/maps") as maps:
        libs = sorted({line.split()[-1] for line in maps if "openblas" in line.lower()})
    for lib in libs:
        try:
            return int(ctypes.CDLL(lib).openblas_get_num_threads())
        except (OSError, AttributeError):
            continue
    return None


def read_idx_images(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[2] != 0x08 or data[3] != 3:
        raise SystemExit(f"{path}: not an unsigned-byte rank-3 IDX file")
    n, r, c = (int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(3))
    return np.frombuffer(data, dtype=np.uint8, offset=16).reshape(n, r * c)


class Vae(nn.Module):
    def __init__(self, x_dim=784, z_dim=40, hidden=500):
        super().__init__()
        self.enc = nn.Sequential(nn.Linear(x_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.z_mean = nn.Linear(hidden, z_dim)
        self.z_logstd = nn.Linear(hidden, z_dim)
        self.dec = nn.Sequential(
            nn.Linear(z_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, x_dim)
        )

    def elbo(self, x):
        h = self.enc(x)
        mean, logstd = self.z_mean(h), self.z_logstd(h)
        eps = torch.randn_like(mean)
        z = mean + torch.exp(logstd) * eps
        logits = self.dec(z)
        log_px_z = (x * logits - nn.functional.softplus(logits)).sum(-1)
        half_log_2pi = 0.5 * math.log(2 * math.pi)
        log_pz = (-half_log_2pi - 0.5 * z * z).sum(-1)
        log_qz = (-half_log_2pi - logstd - 0.5 * eps * eps).sum(-1)
        return log_px_z + log_pz - log_qz


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--batch-size", type=int, default=128)
    args = ap.parse_args()
    torch.manual_seed(1)
    rng = np.random.default_rng(1)
    x = read_idx_images(os.path.join(args.data, "train-images-idx3-ubyte")).astype(np.float32) / 255.0
    model = Vae()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    order = rng.permutation(x.shape[0])
    cursor = 0

    def step():
        nonlocal cursor
        if cursor + args.batch_size > x.shape[0]:
            cursor = 0
        p = x[order[cursor:cursor + args.batch_size]]
        cursor += args.batch_size
        xb = torch.from_numpy((rng.random(p.shape, dtype=np.float32) < p).astype(np.float32))
        opt.zero_grad()
        loss = -model.elbo(xb).mean()
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(10):
        step()
    blocks, per = 5, max(1, args.steps // 5)
    times = []
    for _ in range(blocks):
        t0 = time.perf_counter()
        for _ in range(per):
            step()
        times.append((time.perf_counter() - t0) * 1000 / per)
    print(
        json.dumps(
            {
                "ms_per_step": float(np.median(times)),
                "threads": torch.get_num_threads(),
                "blas_threads": openblas_threads(),
            }
        )
    )


if __name__ == "__main__":
    main()
