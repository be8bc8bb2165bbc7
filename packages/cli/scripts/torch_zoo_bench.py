"""PyTorch peers of the zoo's benchmark models, for `zhusuan bench --model` and `--sweep`.

Each peer is the same computation as the TypeScript model it is named after
(examples/src/bench.ts, packages/cli/src/bench/vae_models.ts), written plainly
as a PyTorch user would: the same sizes, particles, chains and optimizer, on
the same data in the same order and, for the samplers, from the same initial
state (all read from the .npy files the bench writes).

    python3 torch_zoo_bench.py --spec spec.json
    python3 torch_zoo_bench.py --serve

spec.json: {"mnist": DIR, "jobs": [{"name", "model", "warmup", "warmup_seconds", "blocks", "per",
"min_block_seconds", "args": {...}, "arrays": {NAME: FILE.npy}}]}. Prints one JSON line per job,
{"name", "ms_per_step", "initial_loss"} (or {"name", "error"}), then
{"threads", "blas_threads"}. With --serve, the jobs come one a line on stdin,
each with its "mnist", and each is answered as soon as it is timed; a {"ready": true} line
comes first, once torch is imported, and the threads line follows the end of
stdin; a job sent as {"open": job} is set up and warmed up, then timed a
block at a time, on {"block": true} lines, and closed by {"close": true} (the
bench alternates its blocks with its own model's). Timing: `warmup` steps (and more until
`warmup_seconds` have passed), then `blocks` blocks of `per` steps, or more
so that a block lasts `min_block_seconds` at the warm-up's pace, the median
block's ms per step.

To add a model: write `setup_NAME(args, arrays, mnist)` returning
(step, initial_loss) and add it to MODELS under the name the TypeScript
model's `torchModel` gives.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_vae_bench import Vae, openblas_threads, read_idx_images  # noqa: E402

HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def normal_log_prob(x, mean, logstd):
    logstd = torch.as_tensor(logstd)
    return -HALF_LOG_2PI - logstd - 0.5 * ((x - mean) * torch.exp(-logstd)) ** 2


# The homework VAE (zhusuan train --objective elbo|iwae|vimco).


def vae_cost(model, x, objective, k):
    h = model.enc(x)
    mean, logstd = model.z_mean(h), model.z_logstd(h)
    eps = torch.randn((k,) + mean.shape)
    z = mean + torch.exp(logstd) * eps
    if objective == "vimco":
        z = z.detach()
    logits = model.dec(z)
    log_px_z = (x * logits - nn.functional.softplus(logits)).sum(-1)
    log_pz = (-HALF_LOG_2PI - 0.5 * z * z).sum(-1)
    log_qz = normal_log_prob(z, mean, logstd).sum(-1)
    lw = log_px_z + log_pz - log_qz  # [k, n]
    if objective == "elbo":
        return -lw.mean()
    bound = torch.logsumexp(lw, 0) - math.log(k)
    if objective == "iwae":
        return -bound.mean()
    return vimco_cost(lw, log_qz)


def vimco_cost(lw, log_q):
    """VIMCO's surrogate cost from log weights and log q, both [k, n] (batch mean).

    Each sample's learning signal is the bound against the bound with its log
    weight replaced by the mean of the others (leave-one-out).
    """
    k = lw.shape[0]
    bound = torch.logsumexp(lw, 0) - math.log(k)
    lws = lw.detach()
    mean_others = (lws.sum(0, keepdim=True) - lws) / (k - 1)
    rep = lws.unsqueeze(0).expand(k, k, -1).clone()
    idx = torch.arange(k)
    rep[idx, idx] = mean_others
    control = torch.logsumexp(rep, 1) - math.log(k)
    signal = bound.detach().unsqueeze(0) - control
    return -((signal * log_q).sum(0) + bound).mean()


def mnist_batches(mnist, order, bs):
    """The next batch of MNIST's training images (rows `order`, wrapping), binarised afresh."""
    x = read_idx_images(os.path.join(mnist, "train-images-idx3-ubyte")).astype(np.float32) / 255.0
    rng = np.random.default_rng(1)
    steps = len(order) // bs
    state = {"s": 0}

    def next_batch():
        at = (state["s"] % steps) * bs
        state["s"] += 1
        p = x[order[at:at + bs]]
        return torch.from_numpy((rng.random(p.shape, dtype=np.float32) < p).astype(np.float32))

    return next_batch


def vae_trainer(model, args, arrays, mnist, objective, k):
    """Adam steps of `vae_cost` for a model with enc, z_mean, z_logstd and dec."""
    next_batch = mnist_batches(mnist, arrays["order"], int(args["batch_size"]))
    opt = torch.optim.Adam(model.parameters(), lr=float(args["lr"]))

    def step():
        xb = next_batch()
        opt.zero_grad()
        vae_cost(model, xb, objective, k).backward()
        opt.step()

    return step, None


def setup_vae(args, arrays, mnist):
    model = Vae(x_dim=784, z_dim=int(args["z_dim"]), hidden=int(args["hidden"]))
    return vae_trainer(model, args, arrays, mnist, args["objective"], int(args["particles"]))


class PlanarFlows(nn.Module):
    """`steps` planar flows y = z + u tanh(w.z + b), u reparameterised so that
    w.u = softplus(w.u_free) - 1 > -1 (Rezende & Mohamed 2015, appendix A)."""

    def __init__(self, dim, steps):
        super().__init__()
        self.u = nn.Parameter(0.1 * torch.randn(steps, dim))
        self.w = nn.Parameter(0.1 * torch.randn(steps, dim))
        self.b = nn.Parameter(torch.zeros(steps))

    def forward(self, z):  # z [..., dim] -> y, log |det dy/dz| [...]
        log_det = torch.zeros(z.shape[:-1])
        for u_free, w, b in zip(self.u, self.w, self.b):
            wu_free = (w * u_free).sum()
            wu = nn.functional.softplus(wu_free) - 1
            u = u_free + (wu - wu_free) * w / (w * w).sum()
            h = torch.tanh(z @ w + b)
            z = z + h.unsqueeze(-1) * u
            log_det = log_det + torch.log1p((1 - h * h) * wu)
        return z, log_det


def setup_vae_nf(args, arrays, mnist):
    """examples/src/vae_nf.ts: the homework VAE whose Gaussian q is followed by planar flows."""
    model = Vae(x_dim=784, z_dim=int(args["z_dim"]), hidden=int(args["hidden"]))
    flows = PlanarFlows(int(args["z_dim"]), int(args["flow_steps"]))
    next_batch = mnist_batches(mnist, arrays["order"], int(args["batch_size"]))
    opt = torch.optim.Adam(list(model.parameters()) + list(flows.parameters()), lr=float(args["lr"]))

    def step():
        x = next_batch()
        h = model.enc(x)
        mean, logstd = model.z_mean(h), model.z_logstd(h)
        eps = torch.randn_like(mean)
        z, log_det = flows(mean + torch.exp(logstd) * eps)
        logits = model.dec(z)
        log_px_z = (x * logits - nn.functional.softplus(logits)).sum(-1)
        log_pz = (-HALF_LOG_2PI - 0.5 * z * z).sum(-1)
        log_qz = (-HALF_LOG_2PI - logstd - 0.5 * eps * eps).sum(-1) - log_det
        opt.zero_grad()
        (-(log_px_z + log_pz - log_qz).mean()).backward()
        opt.step()

    return step, None


def conv3(c_in, c_out, stride, transpose=False):
    """A 3x3 convolution, 'same' padding (transposed: output = input * stride)."""
    if transpose:
        return nn.ConvTranspose2d(c_in, c_out, 3, stride, padding=1, output_padding=stride - 1)
    return nn.Conv2d(c_in, c_out, 3, stride, padding=1)


class ResBlock(nn.Module):
    """ZhuSuan's (de)conv residual block: conv-ReLU-conv + input (or a strided conv of it), ReLU;
    plain blocks resize in their first convolution, transposed ones in their second."""

    def __init__(self, c_in, c_out, stride, transpose):
        super().__init__()
        mid = c_in if transpose else c_out
        self.a = conv3(c_in, mid, 1 if transpose else stride, transpose)
        self.b = conv3(mid, c_out, stride if transpose else 1, transpose)
        self.skip = conv3(c_in, c_out, stride, transpose) if stride != 1 else None

    def forward(self, x):
        h = self.b(torch.relu(self.a(x)))
        return torch.relu(h + (x if self.skip is None else self.skip(x)))


class ConvVae(nn.Module):
    """examples/src/vae_conv.ts's networks (tf.layers there), the same shapes in torch.nn."""

    def __init__(self, z_dim, nf):
        super().__init__()
        self.z_dim, self.nf = z_dim, nf
        self.enc_convs = nn.Sequential(
            nn.Conv2d(1, nf, 3, 1, padding=1), nn.ReLU(),
            ResBlock(nf, nf, 1, False), ResBlock(nf, 2 * nf, 2, False),
            ResBlock(2 * nf, 2 * nf, 1, False), ResBlock(2 * nf, 2 * nf, 2, False),
            ResBlock(2 * nf, 2 * nf, 1, False),
        )
        self.enc_dense = nn.Linear(7 * 7 * 2 * nf, 500)
        self.z_mean, self.z_logstd = nn.Linear(500, z_dim), nn.Linear(500, z_dim)
        self.dec_dense = nn.Linear(z_dim, 7 * 7 * 2 * nf)
        self.dec_convs = nn.Sequential(
            ResBlock(2 * nf, 2 * nf, 1, True), ResBlock(2 * nf, 2 * nf, 2, True),
            ResBlock(2 * nf, 2 * nf, 1, True), ResBlock(2 * nf, nf, 2, True),
            ResBlock(nf, nf, 1, True), conv3(nf, 1, 1, True),
        )

    def enc(self, x):  # x [n, 784] -> [n, 500]
        h = self.enc_convs((2 * x - 1).reshape(-1, 1, 28, 28))
        return torch.relu(self.enc_dense(h.flatten(1)))

    def dec(self, z):  # z [..., z_dim] -> logits [..., 784]
        h = torch.relu(self.dec_dense(z.reshape(-1, self.z_dim)))
        h = self.dec_convs(h.reshape(-1, 2 * self.nf, 7, 7))
        return h.reshape(z.shape[:-1] + (784,))


def setup_vae_conv(args, arrays, mnist):
    model = ConvVae(int(args["z_dim"]), int(args["nf"]))
    return vae_trainer(model, args, arrays, mnist, "elbo", 1)


# The MNIST examples' models (examples/src/bench_mnist.ts).


def bernoulli_log_prob(x, logits):
    """log Bernoulli(x; sigmoid(logits)), summed over the last axis."""
    return (x * logits - nn.functional.softplus(logits)).sum(-1)


def mlp(sizes):
    """Dense layers with ReLU between them, none after the last."""
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers += [nn.Linear(a, b)] + ([nn.ReLU()] if i < len(sizes) - 2 else [])
    return nn.Sequential(*layers)


def setup_bernoulli_vae(args, arrays, mnist):
    """examples/src/bernoulli_latent_vae.ts: 40 Bernoulli latents, REINFORCE with a
    baseline net (trained by its squared error) and a moving average of the signal."""
    h, z_dim = int(args["hidden"]), 40
    next_batch = mnist_batches(mnist, arrays["order"], int(args["batch_size"]))
    enc, dec, base = mlp([784, h, h, z_dim]), mlp([z_dim, h, h, 784]), mlp([784, 100, 1])
    params = list(dec.parameters()) + list(enc.parameters()) + list(base.parameters())
    opt = torch.optim.Adam(params, lr=float(args["lr"]), eps=float(args["eps"]))
    decay = float(args["decay"])
    state = {"ma": torch.zeros(())}

    def step():
        xb = next_batch()
        q_logits = enc(xb)
        z = torch.bernoulli(torch.sigmoid(q_logits)).detach()
        log_q = bernoulli_log_prob(z, q_logits)
        log_p = bernoulli_log_prob(xb, dec(z)) - z_dim * math.log(2)
        b = base(xb).squeeze(-1)
        signal = (log_p - log_q).detach()
        baseline_cost = 0.5 * (signal - b) ** 2
        signal = signal - b.detach()
        centred = signal - state["ma"]
        state["ma"] = state["ma"] * decay + signal.mean() * (1 - decay)
        cost = (-(centred * log_q + log_p) + baseline_cost).mean()
        opt.zero_grad()
        cost.backward()
        opt.step()

    return step, None


def sbn_setup(args, arrays, mnist, cost_of):
    """examples/src/common/sbn.ts: a 3-layer sigmoid belief net and its mirror q; `cost_of(log_p, log_q, k)`
    gives the step's cost from log p(x, h) and log q(h | x), both [k, n]."""
    h, k = int(args["hidden"]), int(args["particles"])
    next_batch = mnist_batches(mnist, arrays["order"], int(args["batch_size"]))
    gen = nn.ModuleDict({"h2": nn.Linear(h, h), "h1": nn.Linear(h, h), "x": nn.Linear(h, 784)})
    rec = nn.ModuleDict({"h1": nn.Linear(784, h), "h2": nn.Linear(h, h), "h3": nn.Linear(h, h)})
    params = list(gen.parameters()) + list(rec.parameters())
    opt = torch.optim.Adam(params, lr=float(args["lr"]), eps=float(args["eps"]))

    def step():
        xb = next_batch()
        log_q, hs, below = 0.0, {}, xb
        for name in ("h1", "h2", "h3"):
            logits = rec[name](below)
            if name == "h1":
                logits = logits.expand(k, -1, -1)
            hs[name] = torch.bernoulli(torch.sigmoid(logits)).detach()
            log_q = log_q + bernoulli_log_prob(hs[name], logits)
            below = hs[name]
        log_p = -h * math.log(2) + bernoulli_log_prob(hs["h2"], gen["h2"](hs["h3"]))
        log_p = log_p + bernoulli_log_prob(hs["h1"], gen["h1"](hs["h2"]))
        log_p = log_p + bernoulli_log_prob(xb, gen["x"](hs["h1"]))
        opt.zero_grad()
        cost_of(log_p, log_q, k).backward()
        opt.step()

    return step, None


def setup_sbn_vimco(args, arrays, mnist):
    return sbn_setup(args, arrays, mnist, lambda log_p, log_q, k: vimco_cost(log_p - log_q, log_q))


def rws_cost(log_p, log_q, k):
    """Reweighted wake-sleep: p ascends the IW bound (log q held constant), q descends
    KL(p||q) by the self-normalised importance weights of the same samples."""
    bound = torch.logsumexp(log_p - log_q.detach(), 0) - math.log(k)
    w = torch.softmax((log_p - log_q).detach(), 0)
    return -bound.mean() - (w * log_q).sum(0).mean()


def setup_sbn_rws(args, arrays, mnist):
    return sbn_setup(args, arrays, mnist, rws_cost)


# HMC, plain: fresh momenta, leapfrog, a Metropolis accept per chain.


def hmc_transition(log_prob, x, step_size, n_leapfrogs):
    """One iteration from x; the chains are log_prob's axes, the rest of x is each chain's state."""

    def grad(q):
        q = q.detach().requires_grad_(True)
        lp = log_prob(q)
        (g,) = torch.autograd.grad(lp.sum(), q)
        return lp.detach(), g

    p0 = torch.randn_like(x)
    lp0, g = grad(x)
    q, p = x, p0 + 0.5 * step_size * g
    for i in range(n_leapfrogs):
        q = q + step_size * p
        lp, g = grad(q)
        p = p + (step_size if i < n_leapfrogs - 1 else 0.5 * step_size) * g
    dims = tuple(range(lp0.dim(), x.dim()))
    h0 = -lp0 + 0.5 * (p0 * p0).sum(dims)
    h1 = -lp + 0.5 * (p * p).sum(dims)
    accept = torch.rand_like(h0) < torch.exp(torch.clamp(h0 - h1, max=0.0))
    return torch.where(accept.reshape(accept.shape + (1,) * len(dims)), q.detach(), x)


def hmc_sampler(log_prob, x0, step_size, n_leapfrogs):
    x = torch.from_numpy(x0.copy())

    def step():
        nonlocal x
        x = hmc_transition(log_prob, x, step_size, n_leapfrogs)

    return step, float(-log_prob(x).sum())


def setup_hmc_gaussian(args, arrays, mnist):
    logstd = torch.log(torch.from_numpy(arrays["std"]))
    return hmc_sampler(
        lambda x: normal_log_prob(x, 0.0, logstd).sum(-1),
        arrays["x0"],
        float(args["step_size"]),
        int(args["n_leapfrogs"]),
    )


def setup_hmc_blr(args, arrays, mnist):
    x, y = torch.from_numpy(arrays["x"]), torch.from_numpy(arrays["y"])
    log_noise = math.log(float(args["noise"]))

    def log_prob(w):  # w [chains, 3]
        prior = normal_log_prob(w, 0.0, 0.0).sum(-1)
        return prior + normal_log_prob(y, w @ x.T, log_noise).sum(-1)

    return hmc_sampler(log_prob, arrays["w0"], float(args["step_size"]), int(args["n_leapfrogs"]))


def setup_hmc_pmf(args, arrays, mnist):
    users = torch.from_numpy(arrays["users"]).long()
    items = torch.from_numpy(arrays["items"]).long()
    r = torch.from_numpy(arrays["r"])
    u0, v0 = arrays["u0"], arrays["v0"]  # [chains, users, D], [chains, items, D]
    chains, n_users, d = u0.shape
    log_alpha = math.log(float(args["alpha_pred"]))

    def log_prob(x):  # x [chains, (users + items) * D]: u and v side by side
        u = x[:, : n_users * d].reshape(chains, n_users, d)
        v = x[:, n_users * d :].reshape(chains, -1, d)
        prior = normal_log_prob(x, 0.0, 0.0).sum(-1)
        mean = torch.sigmoid((u[:, users] * v[:, items]).sum(-1))
        return prior + normal_log_prob(r, mean, log_alpha).sum(-1)

    x0 = np.concatenate([u0.reshape(chains, -1), v0.reshape(chains, -1)], axis=1)
    return hmc_sampler(log_prob, x0, float(args["step_size"]), int(args["n_leapfrogs"]))


# Mean-field VI of the 2-D funnel.


def setup_vi_funnel(args, arrays, mnist):
    params = [torch.tensor(v, requires_grad=True) for v in (-2.0, -5.0, -2.0, -5.0)]
    m1, s1, m2, s2 = params
    opt = torch.optim.Adam(params, lr=float(args["lr"]))
    k = int(args["particles"])
    log_sigma = math.log(1.35)

    def step():
        z1 = m1 + torch.exp(s1) * torch.randn(k)
        z2 = m2 + torch.exp(s2) * torch.randn(k)
        log_p = normal_log_prob(z2, 0.0, log_sigma) + normal_log_prob(z1, 0.0, z2)
        log_q = normal_log_prob(z1, m1, s1) + normal_log_prob(z2, m2, s2)
        opt.zero_grad()
        (-(log_p - log_q).mean()).backward()
        opt.step()

    return step, None


# SGNHT on the mixture (first order, one scalar friction).


def setup_sgnht_mixture(args, arrays, mnist):
    lr, a, rate = float(args["lr"]), float(args["variance_extra"]), float(args["tune_rate"])
    x = torch.from_numpy(arrays["x0"].copy())

    # The two components' Normal log densities at once (means [2, 1] against
    # the chains), as the library's example takes them; -0.5 / 0.5**2 = -2.
    means = torch.tensor([[-1.0], [3.0]])
    c = -math.log(0.5) - 0.5 * math.log(2 * math.pi)

    def log_density(x):
        return torch.logsumexp(-2.0 * (x - means) ** 2 + c, 0)

    v = torch.randn_like(x) * math.sqrt(lr)
    alpha = torch.tensor(a)
    initial = float(-log_density(x).sum())

    def step():
        nonlocal x, v, alpha
        q = x.detach().requires_grad_(True)
        (g,) = torch.autograd.grad(log_density(q).sum(), q)
        v = v * (1 - alpha) + lr * g + torch.randn_like(x) * math.sqrt(2 * a * lr)
        x = x + v
        alpha = alpha + rate * ((v * v).mean() - lr)

    return step, initial


# The Bayesian neural network of examples/src/common/bnn.ts.


def bnn_forward(ws, x):
    """ws[l]: [P, n_out, n_in + 1]; x [m, d] -> the output's mean [P, m]."""
    h = x.unsqueeze(0).expand(ws[0].shape[0], -1, -1)
    for i, w in enumerate(ws):
        n_in = w.shape[-1] - 1
        h = torch.cat([h, torch.ones(h.shape[:-1] + (1,))], -1)
        h = h @ w.transpose(1, 2) / math.sqrt(n_in + 1)
        if i < len(ws) - 1:
            h = torch.relu(h)
    return h.squeeze(-1)


def bnn_log_joint(ws, x, y, y_logstd, n_train):
    """Per particle/chain: the weights' N(0, 1) prior + n_train * mean_n log p(y_n)."""
    prior = sum(normal_log_prob(w, 0.0, 0.0).sum((1, 2)) for w in ws)
    return prior + n_train * normal_log_prob(y, bnn_forward(ws, x), y_logstd).mean(-1)


def batches(arrays, batch):
    x, y, order = arrays["x"], arrays["y"], arrays["order"]
    steps = len(order) // batch
    state = {"s": 0}

    def next_batch():
        at = (state["s"] % steps) * batch
        state["s"] += 1
        rows = order[at:at + batch]
        return torch.from_numpy(x[rows]), torch.from_numpy(y[rows])

    return next_batch, x.shape[0]


def setup_bnn_vi(args, arrays, mnist):
    sizes = [int(s) for s in str(args["layer_sizes"]).split(",")]
    k = int(args["particles"])
    next_batch, n_train = batches(arrays, int(args["batch"]))
    y_logstd = torch.zeros((), requires_grad=True)
    means = [torch.zeros(o, i + 1, requires_grad=True) for i, o in zip(sizes[:-1], sizes[1:])]
    logstds = [torch.zeros(o, i + 1, requires_grad=True) for i, o in zip(sizes[:-1], sizes[1:])]
    opt = torch.optim.Adam([y_logstd] + means + logstds, lr=float(args["lr"]))

    def step():
        xb, yb = next_batch()
        ws = [m + torch.exp(s) * torch.randn((k,) + m.shape) for m, s in zip(means, logstds)]
        log_q = sum(normal_log_prob(w, m, s).sum((1, 2)) for w, m, s in zip(ws, means, logstds))
        cost = -(bnn_log_joint(ws, xb, yb, y_logstd, n_train) - log_q).mean()
        opt.zero_grad()
        cost.backward()
        opt.step()

    return step, None


def setup_bnn_sghmc(args, arrays, mnist):
    """SGHMC, second order (Chen et al. 2015, as zhusuan): q+v/2, then v, then q+v/2."""
    sizes = [int(s) for s in str(args["layer_sizes"]).split(",")]
    next_batch, n_train = batches(arrays, int(args["batch"]))
    lr, alpha = float(args["lr"]), float(args["friction"])
    every, y_logstd = int(args["resample_every"]), float(args["y_logstd"])
    qs = [torch.from_numpy(arrays[f"w{i}"].copy()) for i in range(len(sizes) - 1)]
    vs = [torch.randn_like(q) * math.sqrt(lr) for q in qs]
    decay = math.exp(-0.5 * alpha)
    noise_std = math.sqrt(2 * alpha * lr)
    xb0, yb0 = next_batch()
    initial = float(-bnn_log_joint(qs, xb0, yb0, y_logstd, n_train).sum())
    state = {"t": 0, "first": (xb0, yb0)}

    def step():
        nonlocal qs, vs
        xb, yb = state.pop("first") if "first" in state else next_batch()
        t = state["t"]
        if every > 0 and t > 0 and t % every == 0:
            vs = [torch.randn_like(q) * math.sqrt(lr) for q in qs]
        half = [(q + 0.5 * v).requires_grad_(True) for q, v in zip(qs, vs)]
        grads = torch.autograd.grad(bnn_log_joint(half, xb, yb, y_logstd, n_train).sum(), half)
        vs = [(v * decay + lr * g + torch.randn_like(v) * noise_std) * decay for v, g in zip(vs, grads)]
        qs = [q.detach() + 0.5 * v for q, v in zip(half, vs)]
        state["t"] = t + 1

    return step, initial


# The sparse variational GP of examples/src/svgp.ts (common/gp.ts).


def rbf(x, y, k_scale):
    """exp(-1/2 sum_j (x_j - y_j)^2 / s_j), [n, m]."""
    r = torch.rsqrt(k_scale)
    xs, ys = x * r, y * r
    sq = (xs * xs).sum(1, keepdim=True) + (ys * ys).sum(1)[None, :] - 2 * xs @ ys.T
    return torch.exp(-0.5 * torch.relu(sq))


def setup_svgp(args, arrays, mnist):
    k, jitter, floor = int(args["particles"]), float(args["jitter"]), float(args["variance_floor"])
    n_train = arrays["y"].shape[0]
    next_batch, _ = batches(arrays, n_train)
    z = torch.tensor(arrays["z0"], requires_grad=True)  # inducing inputs [M, d]
    m_z, d = z.shape
    k_raw = torch.zeros(d, requires_grad=True)
    noise_raw = torch.tensor(float(args["noise_raw0"]), requires_grad=True)
    q_mean = torch.zeros(m_z, requires_grad=True)
    q_raw = torch.eye(m_z, requires_grad=True)
    opt = torch.optim.Adam([z, k_raw, noise_raw, q_mean, q_raw], lr=float(args["lr"]))
    eye = torch.eye(m_z)

    def terms(x):
        """L^-1 of K(z, z) + jitter I, A = L^-1 K(z, x), S, and the conditional variance.

        As in common/gp.ts, B = K(z, z)^-1 K(z, x) = L^-T A is never formed:
        products with it go through L^-1 and then A.
        """
        k_scale = nn.functional.softplus(k_raw)
        chol = torch.linalg.cholesky(rbf(z, z, k_scale) + jitter * eye)
        chol_inv = torch.linalg.solve_triangular(chol, eye, upper=False)
        a = chol_inv @ rbf(z, x, k_scale)
        s = torch.tril(q_raw, -1) + torch.diag(nn.functional.softplus(torch.diagonal(q_raw)))
        var = torch.clamp(1 - (a * a).sum(0), min=floor)
        return chol_inv, a, s, var

    def cost(x, y):
        chol_inv, a, s, var = terms(x)
        eps = torch.randn(k, m_z)
        fz = q_mean + eps @ s.T
        log_q = -m_z * HALF_LOG_2PI - torch.log(torch.diagonal(s)).sum() - 0.5 * (eps * eps).sum(1)
        white = fz @ chol_inv.T
        log_pz = torch.log(torch.diagonal(chol_inv)).sum() - m_z * HALF_LOG_2PI - 0.5 * (white * white).sum(1)
        fx = white @ a + torch.sqrt(var) * torch.randn(k, x.shape[0])
        log_py = normal_log_prob(y, fx, torch.log(nn.functional.softplus(noise_raw))).sum(1)
        return -(log_pz + n_train / x.shape[0] * log_py - log_q).mean()

    def exact_elbo(x, y):
        """(N/n) sum_i E_q log N(y_i; f(x_i), sigma^2) - KL(q(f(z)) || p(f(z)))."""
        chol_inv, a, s, var = terms(x)
        white_mean, white_s = chol_inv @ q_mean, chol_inv @ s  # L^-1 m, L^-1 S
        mean = white_mean @ a
        var_f = var + ((white_s.T @ a) ** 2).sum(0)
        v = nn.functional.softplus(noise_raw) ** 2
        exp_lik = -0.5 * torch.log(2 * math.pi * v) - ((y - mean) ** 2 + var_f) / (2 * v)
        kl = 0.5 * ((white_s**2).sum() + (white_mean**2).sum() - m_z)
        kl = kl - torch.log(torch.diagonal(chol_inv)).sum() - torch.log(torch.diagonal(s)).sum()
        return n_train / x.shape[0] * exp_lik.sum() - kl

    with torch.no_grad():
        initial = float(-exact_elbo(torch.from_numpy(arrays["x"]), torch.from_numpy(arrays["y"])))

    def step():
        xb, yb = next_batch()
        opt.zero_grad()
        cost(xb, yb).backward()
        opt.step()

    return step, initial


# Monte-Carlo EM of the logistic-normal topic model (examples/src/lntm_mcem.ts).


def setup_lntm_mcem(args, arrays, mnist):
    counts = torch.from_numpy(arrays["counts"])  # [N, V]
    order, b = arrays["order"], int(args["batch"])
    eta_all = torch.from_numpy(arrays["eta0"].copy())  # persistent chains [C, N, K]
    beta = torch.tensor(arrays["beta0"], requires_grad=True)  # topic logits [K, V]
    mu, logstd = torch.from_numpy(arrays["eta_mean"]), torch.from_numpy(arrays["eta_logstd"])
    e_steps, n_leapfrogs = int(args["num_e_steps"]), int(args["n_leapfrogs"])
    step_size, log_delta = float(args["step_size"]), float(args["log_delta"])
    opt = torch.optim.Adam([beta], lr=float(args["lr"]))

    def log_px(eta, x, phi):
        """log p(x_d | eta, beta) without the multinomial coefficient, [C, B]."""
        return (x * torch.log(torch.softmax(eta, -1) @ phi)).sum(-1)

    def log_joint(eta, x, phi):
        return normal_log_prob(eta, mu, logstd).sum(-1) + log_px(eta, x, phi)

    steps = len(order) // b
    state = {"s": 0}

    def batch():
        at = (state["s"] % steps) * b
        state["s"] += 1
        docs = torch.from_numpy(order[at:at + b]).long()
        return docs, counts[docs]

    docs0, x0 = batch()
    state["s"] = 0
    with torch.no_grad():
        initial = float(-log_joint(eta_all[:, docs0], x0, torch.softmax(beta, -1)).sum())

    def step():
        docs, x = batch()
        phi = torch.softmax(beta.detach(), -1)
        eta = eta_all[:, docs]
        for _ in range(e_steps):  # E-step
            eta = hmc_transition(lambda e: log_joint(e, x, phi), eta, step_size, n_leapfrogs)
        eta_all[:, docs] = eta
        # M-step: ascend log p(beta) + sum_d mean over chains of log p(x_d | eta, beta).
        log_p_beta = normal_log_prob(beta, 0.0, log_delta).sum()
        opt.zero_grad()
        (-(log_p_beta + log_px(eta, x, torch.softmax(beta, -1)).mean(0).sum())).backward()
        opt.step()

    return step, initial


def setup_m2(args, arrays, mnist):
    """examples/src/vae_ssl.ts: M2, the labelled ELBO on the 100 labelled images, the
    unlabelled bound with the ten labels enumerated, and beta times the classifier's
    cross-entropy; one sample of z."""
    h, z_dim, classes = int(args["hidden"]), int(args["z_dim"]), 10
    next_batch = mnist_batches(mnist, arrays["order"], int(args["batch_size"]))
    xl_p, yl = arrays["xl"], torch.from_numpy(arrays["yl"])
    rng = np.random.default_rng(2)
    from_z, from_y = nn.Linear(z_dim, h), nn.Linear(classes, h)
    dec = mlp([h, h, 784])
    qz_trunk = nn.Sequential(nn.Linear(784 + classes, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU())
    qz_mean, qz_logstd = nn.Linear(h, z_dim), nn.Linear(h, z_dim)
    classifier = mlp([784, h, h, classes])
    modules = [from_z, from_y, dec, qz_trunk, qz_mean, qz_logstd, classifier]
    params = [p for m in modules for p in m.parameters()]
    opt = torch.optim.Adam(params, lr=float(args["lr"]), eps=float(args["eps"]))
    beta = float(args["beta"])

    def labelled(x, y):  # L(x, y), [m]
        t = qz_trunk(torch.cat([x, y], 1))
        mean, logstd = qz_mean(t), qz_logstd(t)
        z = mean + torch.exp(logstd) * torch.randn_like(mean)
        logits = dec(torch.relu(from_z(z) + from_y(y)))
        log_p = normal_log_prob(z, 0.0, 0.0).sum(-1) - math.log(classes)
        log_p = log_p + bernoulli_log_prob(x, logits)
        return log_p - normal_log_prob(z, mean, logstd).sum(-1)

    def step():
        xu = next_batch()
        xl = torch.from_numpy((rng.random(xl_p.shape, dtype=np.float32) < xl_p).astype(np.float32))
        m = xu.shape[0]
        lb = labelled(xu.repeat_interleave(classes, 0), torch.eye(classes).repeat(m, 1))
        qy = torch.softmax(classifier(xu), 1) + 1e-8
        qy = qy / qy.sum(1, keepdim=True)
        lb_u = (qy * (lb.reshape(m, classes) - torch.log(qy))).sum(1).mean()
        ce = -(yl * torch.log_softmax(classifier(xl), 1)).sum(1).mean()
        cost = (-(labelled(xl, yl).mean() + lb_u) + beta * ce) / 2
        opt.zero_grad()
        cost.backward()
        opt.step()

    return step, None


def setup_nice(args, arrays, mnist):
    """examples/src/nice_mnist.ts: NICE, a logistic prior, 4 additive couplings (odd/even
    masks alternating, shift MLPs with a zero last layer) and a diagonal scaling; maximum
    likelihood on dequantised images. The first batch is the TypeScript side's (x0)."""
    hidden = [int(v) for v in str(args["hidden"]).split(",")]
    images = read_idx_images(os.path.join(mnist, "train-images-idx3-ubyte"))
    order, bs = arrays["order"], int(args["batch_size"])
    steps = len(order) // bs
    rng = np.random.default_rng(1)
    odd = torch.arange(784) % 2
    masks = [(odd if i % 2 == 0 else 1 - odd).float() for i in range(4)]
    nets = []
    for _ in masks:
        net = mlp([784] + hidden + [784])
        nn.init.zeros_(net[-1].weight)
        nn.init.zeros_(net[-1].bias)
        nets.append(net)
    log_scale = torch.zeros(784, requires_grad=True)
    params = [log_scale] + [p for n in nets for p in n.parameters()]
    opt = torch.optim.Adam(params, lr=float(args["lr"]), eps=float(args["eps"]))

    def log_prob(x):  # x -> h: the couplings' inverses in mask order, then the scaling's
        for mask, net in zip(masks, nets):
            x = x - net(x * mask) * (1 - mask)
        h = x * torch.exp(-log_scale)
        return (-h - 2 * nn.functional.softplus(-h)).sum(-1) - log_scale.sum()

    state = {"s": 1, "x0": torch.from_numpy(arrays["x0"])}
    initial = float(-log_prob(state["x0"]).mean())

    def step():
        if "x0" in state:
            xb = state.pop("x0")
        else:
            at = (state["s"] % steps) * bs
            state["s"] += 1
            p = images[order[at:at + bs]].astype(np.float32)
            xb = torch.from_numpy((p + rng.random(p.shape, dtype=np.float32)) / 256)
        opt.zero_grad()
        (-log_prob(xb).mean()).backward()
        opt.step()

    return step, initial


MODELS = {
    "vae": setup_vae,
    "vae_conv": setup_vae_conv,
    "vae_nf": setup_vae_nf,
    "hmc_gaussian": setup_hmc_gaussian,
    "hmc_blr": setup_hmc_blr,
    "hmc_pmf": setup_hmc_pmf,
    "vi_funnel": setup_vi_funnel,
    "sgnht_mixture": setup_sgnht_mixture,
    "bnn_vi": setup_bnn_vi,
    "bnn_sghmc": setup_bnn_sghmc,
    "svgp": setup_svgp,
    "lntm_mcem": setup_lntm_mcem,
    "bernoulli_vae": setup_bernoulli_vae,
    "sbn_vimco": setup_sbn_vimco,
    "sbn_rws": setup_sbn_rws,
    "m2": setup_m2,
    "nice": setup_nice,
}


class Timed:
    """A job set up and warmed up, its blocks run one at a time."""

    def __init__(self, job, mnist):
        torch.manual_seed(1)
        arrays = {k: np.load(f) for k, f in job["arrays"].items()}
        self.name = job["name"]
        self.step, self.initial = MODELS[job["model"]](job["args"], arrays, mnist)
        t_start = time.perf_counter()
        warm_end = t_start + job.get("warmup_seconds", 0)
        for _ in range(job["warmup"]):
            self.step()
        # The warm-up's pace after its first steps sizes the blocks, as blockSteps does.
        tail, tail_start = 0, time.perf_counter()
        while time.perf_counter() < warm_end:
            self.step()
            tail += 1
        if tail > 0:
            ms_estimate = (time.perf_counter() - tail_start) * 1000 / tail
        else:
            ms_estimate = (tail_start - t_start) * 1000 / max(1, job["warmup"])
        self.per = job["per"]
        min_block = job.get("min_block_seconds", 0)
        if min_block > 0 and ms_estimate > 0:
            self.per = max(self.per, math.ceil(min_block * 1000 / ms_estimate))
        self.times = []

    def block(self):
        """One block of `per` steps; its ms per step."""
        t0 = time.perf_counter()
        for _ in range(self.per):
            self.step()
        self.times.append((time.perf_counter() - t0) * 1000 / self.per)
        return self.times[-1]

    def result(self):
        return {"name": self.name, "ms_per_step": float(np.median(self.times)), "initial_loss": self.initial}


def failure(name, err):
    return {"name": name, "error": f"{type(err).__name__}: {err}"}


def serve():
    """Jobs from stdin, a line each: {...job} runs a whole job; {"open": job} sets one up and
    warms it up, then {"block": true} runs one block of it at a time (the bench alternates
    them with its own model's) and {"close": true} ends it with its result line."""
    print(json.dumps({"ready": True}), flush=True)  # torch is imported: nothing left to load
    timed = None
    for line in sys.stdin:
        if not line.strip():
            continue
        msg = json.loads(line)
        if "open" in msg:
            job = msg["open"]
            timed, error = open_job(job, job["mnist"])
            out = error if error is not None else {"name": job["name"], "opened": True}
        elif "block" in msg:
            try:
                out = {"ms": timed.block()}
            except Exception as err:
                out = failure(getattr(timed, "name", "?"), err)
        elif "close" in msg:
            out = timed.result() if timed is not None else {"name": "?", "error": "no job open"}
            timed = None
        else:
            out = run_job(msg, msg["mnist"])
        print(json.dumps(out), flush=True)


def open_job(job, mnist):
    """(the job set up and warmed up, None), or (None, the error line that stopped it)."""
    if job["model"] not in MODELS:
        return None, {"name": job["name"], "error": f"no PyTorch peer '{job['model']}' in MODELS"}
    try:
        return Timed(job, mnist), None
    except Exception as err:  # one peer's failure must not lose the others' figures
        return None, failure(job["name"], err)


def run_job(job, mnist):
    """One job's result line: its timing, or the error that stopped it."""
    timed, error = open_job(job, mnist)
    if error is not None:
        return error
    try:
        for _ in range(job["blocks"]):
            timed.block()
        return timed.result()
    except Exception as err:
        return failure(job["name"], err)


def threads_line():
    return {"threads": torch.get_num_threads(), "blas_threads": openblas_threads()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--spec", help="a spec.json: run its jobs one after another")
    ap.add_argument(
        "--serve",
        action="store_true",
        help="read one job a line from stdin (with its 'mnist'), answer each with its line",
    )
    a = ap.parse_args()
    if a.serve:
        serve()
    elif a.spec:
        spec = json.load(open(a.spec))
        for job in spec["jobs"]:
            print(json.dumps(run_job(job, spec["mnist"])), flush=True)
    else:
        ap.error("give --spec FILE or --serve")
    print(json.dumps(threads_line()), flush=True)


if __name__ == "__main__":
    main()
