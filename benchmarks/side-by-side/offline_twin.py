#!/usr/bin/env python3
"""Pieces shared by the PyTorch twins of Marvel's CPQ and BEAR-Lag updates (cpq_update.py, bear_lag_update.py).

These are timing twins: they do the same tensor work per update as the .NET learners (same layer shapes, ensemble sizes, sampled
action counts, forward and backward passes, optimizer steps and Polyak averaging, at the same batch), on random data of the same
shapes.  They are not numerical replicas: weights, noise and data come from other generators, so losses differ from the .NET run.

The networks, as in src/Marvel.Core/Networks:
- SquashedGaussianActor: trunk [obs -> H1 -> H2] with ReLU after every layer, mu and log-sigma heads, log sigma clamped to [-20, 2].
- QEnsemble: K independent MLPs [obs+act -> H1 -> H2 -> 1], ReLU between layers, run one after another and stacked to [K, batch].
- ConditionalVae: encoder [obs+act -> V -> V] with ReLU, mean and log-sigma heads of size 2*act (log sigma clamped to [-4, 15]);
  decoder [obs+latent -> V -> V -> act] with ReLU, tanh and the action bound; prior latents drawn N(0, 1) and clipped to +-0.5.
Optimizers are torch.optim.Adam with PyTorch's defaults (one per network), as a PyTorch user would write it; Marvel steps Adam over
one flat buffer per network (same arithmetic, fewer calls).  Polyak is per tensor in PyTorch (Marvel: two ops over one buffer).
"""
import argparse
import math
import sys
import time

import torch
from torch import nn

from sac_lag_update import HALF_LOG_TWO_PI, LOG_TWO, linear, mlp  # the SAC-Lag twin's constants, layer initialisation and MLP


class SquashedActor(nn.Module):
    def __init__(self, obs, act, hidden, gen):
        super().__init__()
        self.trunk = mlp([obs] + hidden, gen, output_relu=True)
        self.mu = linear(hidden[-1], act, gen)
        self.log_std = linear(hidden[-1], act, gen)

    def distribution(self, s):
        h = self.trunk(s)
        return self.mu(h), self.log_std(h).clamp(-20, 2)

    def sample_action(self, s, gen):
        """tanh(mu + sigma eps): Marvel's SampleAction (no log-density)."""
        mean, log_std = self.distribution(s)
        noise = torch.randn(mean.shape, generator=gen)
        return (mean + log_std.exp() * noise).tanh()

    def sample(self, s, gen):
        """(tanh(u), log pi(tanh u)): Marvel's Sample, log-density with the tanh correction included."""
        mean, log_std = self.distribution(s)
        noise = torch.randn(mean.shape, generator=gen)
        u = mean + log_std.exp() * noise
        gauss = noise.square() * -0.5 - log_std - HALF_LOG_TWO_PI
        correction = (LOG_TWO - u - nn.functional.softplus(u * -2)) * 2
        return u.tanh(), (gauss - correction).sum(-1)


class QEnsemble(nn.Module):
    def __init__(self, obs, act, hidden, k, gen):
        super().__init__()
        self.members = nn.ModuleList([mlp([obs + act] + hidden + [1], gen, output_relu=False) for _ in range(k)])

    def forward(self, s, a):
        x = torch.cat([s, a], 1)
        return torch.stack([m(x) for m in self.members], 0).squeeze(-1)

    def min(self, s, a):
        return self.forward(s, a).min(0).values

    def loss(self, s, a, y):
        return (self.forward(s, a) - y.unsqueeze(0)).square().mean(1).sum()


class Vae(nn.Module):
    def __init__(self, obs, act, hidden, max_action, gen):
        super().__init__()
        latent = 2 * act
        self.obs, self.latent, self.max_action = obs, latent, max_action
        self.e1, self.e2 = linear(obs + act, hidden, gen), linear(hidden, hidden, gen)
        self.mean, self.log_std = linear(hidden, latent, gen), linear(hidden, latent, gen)
        self.d1, self.d2, self.d3 = linear(obs + latent, hidden, gen), linear(hidden, hidden, gen), linear(hidden, act, gen)

    def encode(self, s, a):
        h = torch.relu(self.e2(torch.relu(self.e1(torch.cat([s, a], -1)))))
        return self.mean(h), self.log_std(h).clamp(-4, 15)

    def decode_raw(self, s, z):
        return self.d3(torch.relu(self.d2(torch.relu(self.d1(torch.cat([s, z], -1))))))

    def loss(self, s, a, kl_weight, gen):
        mean, log_std = self.encode(s, a)
        z = mean + log_std.exp() * torch.randn(mean.shape, generator=gen)
        recon = self.decode_raw(s, z).tanh() * self.max_action
        return nn.functional.mse_loss(recon, a) + kl_terms(mean, log_std).mean() * kl_weight

    def decode_multiple(self, s, count, gen):
        """Marvel's DecodeMultiple: count prior samples per state, [batch, count, act] squashed and raw."""
        batch = s.shape[0]
        z = torch.randn(batch, count, self.latent, generator=gen).clamp(-0.5, 0.5)
        raw = self.decode_raw(s.unsqueeze(1).expand(batch, count, self.obs), z)
        return raw.tanh(), raw


def kl_terms(mean, log_std):
    log_var = log_std * 2
    return (log_var + 1 - mean.square() - log_var.exp()) * -0.5


def step(optimizer, loss):
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()


def set_requires_grad(modules, flag):
    for m in modules:
        for p in m.parameters():
            p.requires_grad_(flag)


def polyak(tau, net, target):
    with torch.no_grad():
        for p, t in zip(net.parameters(), target.parameters()):
            t.mul_(1 - tau).add_(p, alpha=tau)


def report(values, steps):
    """The one host read of an update (Marvel's Life.Report): all scalars in one transfer, stop on a non-finite one."""
    host = torch.stack([v.detach().reshape(()) for v in values]).double().tolist()
    if not all(math.isfinite(v) for v in host):
        raise FloatingPointError(f"non-finite value at step {steps}: {host}")
    return host


class Dataset:
    """Random transitions (20 000, as the .NET worker's generated BallCircle set) and a uniform batch sampler; rewards and costs
    scaled and the continuation masks built as Marvel's ScaledBatch.From does (reward scale 0.1, cost scale 1, done = terminated)."""

    def __init__(self, obs, act, size, seed):
        g = torch.Generator().manual_seed(seed)
        self.s = torch.randn(size, obs, generator=g)
        self.a = torch.rand(size, act, generator=g) * 2 - 1
        self.r = torch.randn(size, generator=g)
        self.c = (torch.rand(size, generator=g) < 0.2).float()
        self.s2 = torch.randn(size, obs, generator=g)
        self.term = (torch.rand(size, generator=g) < 0.005).float()
        self.trunc = torch.zeros(size)
        self.gen = torch.Generator().manual_seed(seed + 1)

    def sample(self, batch, reward_scale=0.1, cost_scale=1.0):
        rows = torch.randint(self.s.shape[0], (batch,), generator=self.gen)
        take = lambda t: t.index_select(0, rows)  # noqa: E731
        s, a, r, c, s2, term, _ = (take(t) for t in (self.s, self.a, self.r, self.c, self.s2, self.term, self.trunc))
        cont = 1 - term
        return s, a, r * reward_scale, c * cost_scale, s2, cont, cont


class Phases:
    """Optional per-phase wall clock (``--phases``): mark(name) closes the phase that ran since the previous mark."""

    def __init__(self, enabled):
        self.enabled = enabled
        self.totals = {}
        self.last = 0.0

    def start(self):
        if self.enabled:
            self.last = time.perf_counter()

    def mark(self, name):
        if self.enabled:
            now = time.perf_counter()
            self.totals[name] = self.totals.get(name, 0.0) + now - self.last
            self.last = now

    def take(self, n):
        text = " ".join(f"{k}={v * 1e3 / n:.3f}" for k, v in self.totals.items())
        self.totals = {}
        return text


def serve(learner, phases, banner):
    """The worker protocol of run.py: "<n>" runs n updates and answers "<wall ms per update> <cpu ms per update>" (with --phases
    the per-phase wall ms follow as name=value); "quit" ends."""
    print(f"ready torch {torch.__version__} threads {torch.get_num_threads()} {banner}", flush=True)
    for line in sys.stdin:
        line = line.strip()
        if line == "quit":
            break
        n = int(line)
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(n):
            learner.update()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        extra = (" " + phases.take(n)) if phases.enabled else ""
        print(f"{wall * 1e3 / n:.4f} {cpu * 1e3 / n:.4f}{extra}", flush=True)


def common_args(parser):
    parser.add_argument("--hidden", default="256,256", help="actor and critic widths, comma-separated")
    parser.add_argument("--vae-hidden", type=int, default=400)
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--obs", type=int, default=8)
    parser.add_argument("--act", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--phases", action="store_true", help="also report wall ms per phase")
    parser.add_argument("--foreach", action="store_true", help="Adam(foreach=True) instead of PyTorch's CPU default")


def setup_threads(args):
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    return [int(x) for x in args.hidden.split(",")]


def run_main(learner_class, name):
    """The twins' entry point: parse the common arguments, build the learner and serve timing requests."""

    parser = argparse.ArgumentParser()
    common_args(parser)
    args = parser.parse_args()
    hidden = setup_threads(args)
    phases = Phases(args.phases)
    learner = learner_class(args.obs, args.act, hidden, args.vae_hidden, args.batch, args.foreach, phases)
    serve(learner, phases, f"{name} hidden {args.hidden} vae {args.vae_hidden} batch {args.batch} foreach {args.foreach}")
