#!/usr/bin/env python3
"""PyTorch reference for the VAE training step benchmarked in docs/benchmarks.md.

Same model and step as src/vae.ts: encoder 784-500-500 with two 40-d heads
(mean, logstd), z = mean + exp(logstd) * eps, decoder 40-500-500-784 with
Bernoulli logits, loss = -mean_b[log p(x|z) + log N(z;0,1) - log N(z;mean,std)],
Adam lr 1e-3, batch 128, synthetic binary images cycled over 4 batches.

Prints one JSON line: {"ms_per_step": median, "ms_min": ..., "threads": n, "steps": n, "torch": version}.
Run with Debian's python3 (python3-torch): /usr/bin/python3 torch_vae_bench.py [--threads 1] [--steps 100]
glibc's malloc thresholds are raised (re-exec) so that large blocks are reused
rather than mmap'd and zeroed on every step (PyTorch's fast case).
"""
import argparse
import json
import math
import os
import sys
import time

if "MALLOC_MMAP_THRESHOLD_" not in os.environ:
    env = dict(os.environ)
    env["MALLOC_MMAP_THRESHOLD_"] = str(1 << 30)
    env["MALLOC_TRIM_THRESHOLD_"] = str(1 << 31)
    os.execve(sys.executable, [sys.executable] + sys.argv, env)

import torch  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--threads", type=int, default=1)
parser.add_argument("--steps", type=int, default=100)
parser.add_argument("--warmup", type=int, default=10)
parser.add_argument("--batch", type=int, default=128)
args = parser.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(1)

X_DIM, H, Z = 784, 500, 40
LOG_2PI = math.log(2 * math.pi)


class VAE(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.enc1 = torch.nn.Linear(X_DIM, H)
        self.enc2 = torch.nn.Linear(H, H)
        self.mean = torch.nn.Linear(H, Z)
        self.logstd = torch.nn.Linear(H, Z)
        self.dec1 = torch.nn.Linear(Z, H)
        self.dec2 = torch.nn.Linear(H, H)
        self.out = torch.nn.Linear(H, X_DIM)

    def loss(self, x, eps):
        h = torch.relu(self.enc2(torch.relu(self.enc1(x))))
        mean, logstd = self.mean(h), self.logstd(h)
        z = mean + torch.exp(logstd) * eps
        logits = self.out(torch.relu(self.dec2(torch.relu(self.dec1(z)))))
        log_px = (x * logits - torch.nn.functional.softplus(logits)).sum(-1)
        log_pz = (-0.5 * z * z - 0.5 * LOG_2PI).sum(-1)
        precision = torch.exp(-2 * logstd)
        log_qz = (-0.5 * precision * (z - mean) ** 2 - logstd - 0.5 * LOG_2PI).sum(-1)
        return -(log_px + log_pz - log_qz).mean()


model = VAE()
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
xs = [(torch.rand(args.batch, X_DIM) < 0.13).float() for _ in range(4)]
es = [torch.randn(args.batch, Z) for _ in range(4)]


def step(i):
    opt.zero_grad(set_to_none=True)
    loss = model.loss(xs[i % 4], es[i % 4])
    loss.backward()
    opt.step()
    return loss.item()


for i in range(args.warmup):
    step(i)
times = []
for i in range(args.steps):
    t0 = time.perf_counter()
    step(i)
    times.append((time.perf_counter() - t0) * 1000)
times.sort()
print(
    json.dumps(
        {
            "ms_per_step": round(times[len(times) // 2], 3),
            "ms_min": round(times[0], 3),
            "threads": args.threads,
            "steps": args.steps,
            "torch": torch.__version__,
        }
    )
)
