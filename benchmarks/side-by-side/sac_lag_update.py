#!/usr/bin/env python3
"""PyTorch twin of Marvel's SAC-Lag gradient step (SacLagLearner.Update with the benchmark's options), as a timing worker.

Same work as the .NET side: a squashed-Gaussian actor (trunk [H, H] with ReLU, separate mu and log-sigma heads, log sigma clamped
to [-20, 2]), a reward ensemble of 2 and a cost ensemble of 1 critics [obs+act -> H -> H -> 1] with Polyak targets, one Adam per
network (PyTorch defaults), fixed alpha, batch 256.  One update = soft targets under no_grad, two critic regressions with one Adam
step each, the actor step through the online critics with their parameters frozen, Polyak averaging of both targets, and one host
read of eight scalars (which also serves the NaN check), as in the .NET learner.

Protocol (stdin/stdout, one line each): "<n>" runs n updates and answers "<wall ms per update> <cpu ms per update>"; "quit" ends.
Run by run.py; alone: `python3 sac_lag_update.py --hidden 256` then type 50.
"""
import argparse
import math
import sys
import time

import torch
from torch import nn

HALF_LOG_TWO_PI = 0.5 * math.log(2 * math.pi)
LOG_TWO = math.log(2)


def linear(inputs, outputs, gen):
    layer = nn.Linear(inputs, outputs)
    bound = 1.0 / math.sqrt(inputs)
    with torch.no_grad():
        layer.weight.uniform_(-bound, bound, generator=gen)
        layer.bias.uniform_(-bound, bound, generator=gen)
    return layer


def mlp(sizes, gen, output_relu):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(linear(sizes[i], sizes[i + 1], gen))
        if i < len(sizes) - 2 or output_relu:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class Actor(nn.Module):
    def __init__(self, obs, act, hidden, gen):
        super().__init__()
        self.trunk = mlp([obs] + hidden, gen, output_relu=True)
        self.mu = linear(hidden[-1], act, gen)
        self.log_std = linear(hidden[-1], act, gen)

    def sample(self, s, gen):
        h = self.trunk(s)
        mean = self.mu(h)
        log_std = self.log_std(h).clamp(-20, 2)
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

    def mean(self, s, a):
        return self.forward(s, a).mean(0)

    def loss(self, s, a, y):
        return (self.forward(s, a) - y.unsqueeze(0)).square().mean(1).sum()


def set_requires_grad(module, flag):
    for p in module.parameters():
        p.requires_grad_(flag)


class SacLag:
    def __init__(self, obs, act, hidden, batch, seed=1):
        gen = torch.Generator().manual_seed(seed)
        self.actor = Actor(obs, act, hidden, gen)
        self.reward = QEnsemble(obs, act, hidden, 2, gen)
        self.reward_target = QEnsemble(obs, act, hidden, 2, gen)
        self.cost = QEnsemble(obs, act, hidden, 1, gen)
        self.cost_target = QEnsemble(obs, act, hidden, 1, gen)
        self.reward_target.load_state_dict(self.reward.state_dict())
        self.cost_target.load_state_dict(self.cost.state_dict())
        set_requires_grad(self.reward_target, False)
        set_requires_grad(self.cost_target, False)
        # SacLagOptions defaults: actor 1e-5, critic 5e-4, cost critic 8e-4; alpha fixed at 1e-4; gamma 0.99; tau 0.005.
        self.actor_opt = torch.optim.Adam(self.actor.parameters(), lr=1e-5)
        self.reward_opt = torch.optim.Adam(self.reward.parameters(), lr=5e-4)
        self.cost_opt = torch.optim.Adam(self.cost.parameters(), lr=8e-4)
        self.alpha = torch.tensor(1e-4)
        self.gamma, self.tau = 0.99, 0.005
        self.noise = torch.Generator().manual_seed(seed + 1)
        g = torch.Generator().manual_seed(seed + 2)
        self.s = torch.randn(batch, obs, generator=g)
        self.a = torch.rand(batch, act, generator=g) * 2 - 1
        self.r = torch.randn(batch, generator=g)
        self.c = (torch.rand(batch, generator=g) < 0.1).float()
        self.s2 = torch.randn(batch, obs, generator=g)
        self.d = torch.zeros(batch)
        self.steps = 0

    def update(self, lam=0.1):
        s, a, s2 = self.s, self.a, self.s2
        with torch.no_grad():
            a2, logp2 = self.actor.sample(s2, self.noise)
            cont = (1 - self.d) * self.gamma
            y_r = self.r + cont * (self.reward_target.min(s2, a2) - self.alpha * logp2)
            y_c = self.c + cont * self.cost_target.mean(s2, a2)
        reward_loss = self.reward.loss(s, a, y_r)
        self.reward_opt.zero_grad()
        reward_loss.backward()
        self.reward_opt.step()
        cost_loss = self.cost.loss(s, a, y_c)
        self.cost_opt.zero_grad()
        cost_loss.backward()
        self.cost_opt.step()

        set_requires_grad(self.reward, False)
        set_requires_grad(self.cost, False)
        action, logp = self.actor.sample(s, self.noise)
        q = self.reward.min(s, action)
        qc = self.cost.mean(s, action)
        actor_loss = (self.alpha * logp - q + qc * lam).mean()
        self.actor_opt.zero_grad()
        actor_loss.backward()
        self.actor_opt.step()
        set_requires_grad(self.reward, True)
        set_requires_grad(self.cost, True)

        with torch.no_grad():
            for net, target in ((self.reward, self.reward_target), (self.cost, self.cost_target)):
                for p, t in zip(net.parameters(), target.parameters()):
                    t.mul_(1 - self.tau).add_(p, alpha=self.tau)
        values = torch.stack([reward_loss.detach(), cost_loss.detach(), actor_loss.detach(), torch.zeros(()), self.alpha,
                              -logp.detach().mean(), q.detach().mean(), qc.detach().mean()]).double().tolist()
        if not all(math.isfinite(v) for v in values):
            raise FloatingPointError(f"non-finite value at step {self.steps}: {values}")
        self.steps += 1
        return values


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    learner = SacLag(8, 2, [args.hidden, args.hidden], args.batch)
    print(f"ready torch {torch.__version__} threads {torch.get_num_threads()}", flush=True)
    for line in sys.stdin:
        line = line.strip()
        if line == "quit":
            break
        n = int(line)
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(n):
            learner.update()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(f"{wall * 1e3 / n:.4f} {cpu * 1e3 / n:.4f}", flush=True)


if __name__ == "__main__":
    main()
