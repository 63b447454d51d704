#!/usr/bin/env python3
"""PyTorch timing twin of one Marvel BEAR-Lag gradient step (BearLagLearner.Update at BearLagOptions' defaults but the sizes given),
a worker of run.py.  Same work as the .NET learner (src/Marvel.Core/Algorithms/Offline/BearLag/BearLagLearner.cs and
Algorithms/Shared/BatchPidConstraint.cs, Mmd.cs; algorithms spec section 2):

  0. a uniform batch from the data, rewards scaled by 0.1, continuation masks;
  1. VAE step: encode (s, a), reparameterised latent, decode, MSE + 0.5 KL, Adam;
  2. critics: under no_grad s' repeated N = 10 times per state, N next actions from the target actor (its full Sample, log-density
     included, as Marvel calls it), the 4 reward-target and 4 cost-target members on the N x batch pairs, soft clipped double Q
     (group minima, lambda 0.75 on the lower; the mirror image for cost) and the maximum over the N samples; y_r and y_c (clamped);
     regression of the 4 reward members, Adam; regression of the 4 cost members, Adam;
  3. actor: critics frozen; under no_grad the VAE decodes 10 prior latents per state; the actor's Gaussian at s, 10 pre-squash
     samples per state; Gaussian-kernel MMD (sigma 50) between the VAE's and the actor's samples (three [batch, 10, 10, act]
     kernels); min of the 4 reward members and max of the 4 cost members at the first sample; the per-batch PID on mean Q_c (no
     gradient) and its penalty; loss = mean(alpha (MMD - eps) - Q) + penalty, Adam;
  4. dual alpha: log alpha += lr * mean(alpha (MMD - eps)), clamped;
  5. Polyak of both target ensembles and of the target actor (tau 0.005);
  6. one host read of the ten logged scalars, which is also the NaN check.

Where it differs from the .NET side (see docs/benchmarks.md): Adam and Polyak go tensor by tensor (PyTorch's CPU default; Marvel
runs each over one flat buffer per network), the data is random rather than a generated BallCircle set, and the cost-ensemble mirror
image is written directly with max instead of Marvel's negate-min-negate (a few elementwise ops on [batch x N] fewer here).

Protocol: see offline_twin.serve.  Alone: `python3 bear_lag_update.py --hidden 64,64 --vae-hidden 64 --batch 256` then type 20.
"""

import torch

from offline_twin import run_main, Dataset, Phases, QEnsemble, SquashedActor, Vae, common_args, polyak, report, serve, set_requires_grad, \
    setup_threads, step


def soft_clipped_max(all_values, n, mix, pessimistic_high):
    """[2g, batch*n] -> [batch]: soft clipped double Q over the two groups, then the max over the n samples of each state."""
    g = all_values.shape[0] // 2
    if pessimistic_high:
        q1, q2 = all_values[:g].amax(0), all_values[g:].amax(0)
        mixed = torch.maximum(q1, q2) * mix + torch.minimum(q1, q2) * (1 - mix)
    else:
        q1, q2 = all_values[:g].amin(0), all_values[g:].amin(0)
        mixed = torch.minimum(q1, q2) * mix + torch.maximum(q1, q2) * (1 - mix)
    return mixed.view(-1, n).amax(1)


def mean_kernel(x, y, sigma):
    d = (x.unsqueeze(2) - y.unsqueeze(1)).square().sum(-1)      # [batch, N, M]
    return (d / (-2 * sigma)).exp().mean((1, 2))


def mmd(x, y, sigma):
    return (mean_kernel(x, x, sigma) + mean_kernel(y, y, sigma) - mean_kernel(x, y, sigma) * 2 + 1e-6).sqrt()


class BatchPid:
    """Marvel's BatchPidLagrangian: lambda from a PID on the batch mean of Q_c (kp 0.1, ki 0.003, kd 0.001), all on 0-dim tensors."""

    def __init__(self, threshold):
        self.threshold = threshold
        self.integral, self.previous, self.lam = torch.zeros(()), torch.zeros(()), torch.zeros(())

    def control(self, qc):
        with torch.no_grad():
            error = qc.detach().mean() - self.threshold
            derivative = (error - self.previous).clamp_min(0)
            self.integral.add_(error).clamp_min_(0)
            self.previous.copy_(error)
            raw = error.clamp_min(0) * 0.1 + self.integral * 0.003 + derivative * 0.001
            self.lam.copy_(raw.clamp_min(0))
            return self.lam.clone()


class BearLag:
    def __init__(self, obs, act, hidden, vae_hidden, batch, foreach, phases, seed=1):
        gen = torch.Generator().manual_seed(seed)
        self.obs, self.act, self.batch = obs, act, batch
        self.actor = SquashedActor(obs, act, hidden, gen)
        self.actor_target = SquashedActor(obs, act, hidden, gen)
        self.reward = QEnsemble(obs, act, hidden, 4, gen)          # two groups of RewardCriticsPerGroup = 2
        self.reward_target = QEnsemble(obs, act, hidden, 4, gen)
        self.cost = QEnsemble(obs, act, hidden, 4, gen)            # two groups of CostCriticsPerGroup = 2
        self.cost_target = QEnsemble(obs, act, hidden, 4, gen)
        self.vae = Vae(obs, act, vae_hidden, 1.0, gen)
        for net, target in ((self.actor, self.actor_target), (self.reward, self.reward_target), (self.cost, self.cost_target)):
            target.load_state_dict(net.state_dict())
        set_requires_grad([self.actor_target, self.reward_target, self.cost_target], False)
        adam = lambda m, lr: torch.optim.Adam(m.parameters(), lr=lr, foreach=foreach or None)  # noqa: E731
        self.actor_opt, self.reward_opt = adam(self.actor, 1e-3), adam(self.reward, 1e-3)
        self.cost_opt, self.vae_opt = adam(self.cost, 1e-3), adam(self.vae, 1e-3)
        self.log_alpha = torch.zeros(())
        self.noise = torch.Generator().manual_seed(seed + 1)
        self.data = Dataset(obs, act, 20000, seed + 2)
        # kappa 10, T 200, gamma 0.99: qc_thres = 5; costs in {0, 1}: cost values in [0, 100].
        self.q_thres, self.cost_bounds = 5.0, (0.0, 100.0)
        self.pid = BatchPid(self.q_thres)
        self.gamma, self.tau, self.n, self.mix = 0.99, 0.005, 10, 0.75
        self.m, self.sigma, self.eps, self.alpha_lr = 10, 50.0, 0.05, 1e-3
        self.max_action = 1.0
        self.phases = phases
        self.steps = 0

    def update(self):
        ph, g = self.phases, self.noise
        ph.start()
        s, a, r, c, s2, cont, cost_cont = self.data.sample(self.batch)
        vae_loss = self.vae.loss(s, a, 0.5, g)
        step(self.vae_opt, vae_loss)
        ph.mark("vae")

        with torch.no_grad():
            rep = s2.repeat_interleave(self.n, 0)
            a2 = self.actor_target.sample(rep, g)[0] * self.max_action
            next_q = soft_clipped_max(self.reward_target(rep, a2), self.n, self.mix, pessimistic_high=False)
            next_c = soft_clipped_max(self.cost_target(rep, a2), self.n, self.mix, pessimistic_high=True)
            y_r = r + cont * self.gamma * next_q
            y_c = (c + cost_cont * self.gamma * next_c).clamp_(*self.cost_bounds)
        reward_loss = self.reward.loss(s, a, y_r)
        step(self.reward_opt, reward_loss)
        cost_loss = self.cost.loss(s, a, y_c)
        step(self.cost_opt, cost_loss)
        ph.mark("critics")

        set_requires_grad([self.reward, self.cost], False)
        with torch.no_grad():
            _, vae_raw = self.vae.decode_multiple(s, self.m, g)
        mean, log_std = self.actor.distribution(s)
        noise = torch.randn(mean.shape[0], self.m, mean.shape[1], generator=g)
        actor_raw = mean.unsqueeze(1) + log_std.exp().unsqueeze(1) * noise
        mmd_value = mmd(vae_raw, actor_raw, self.sigma)
        first = actor_raw.select(1, 0).tanh() * self.max_action
        q = self.reward.min(s, first)
        qc = self.cost(s, first).amax(0)
        lam = self.pid.control(qc)
        penalty = ((qc - self.q_thres) * lam).mean()
        alpha = self.log_alpha.exp()
        support = alpha * (mmd_value - self.eps)
        actor_loss = (support - q).mean() + penalty
        step(self.actor_opt, actor_loss)
        set_requires_grad([self.reward, self.cost], True)
        with torch.no_grad():
            self.log_alpha.add_((alpha * (mmd_value.detach() - self.eps)).mean() * self.alpha_lr).clamp_(-5, 5)
        ph.mark("actor")

        polyak(self.tau, self.reward, self.reward_target)
        polyak(self.tau, self.cost, self.cost_target)
        polyak(self.tau, self.actor, self.actor_target)
        values = report([vae_loss, reward_loss, cost_loss, actor_loss, lam, self.log_alpha.exp(), mmd_value.mean(), qc.mean(),
                         q.mean(), qc.mean()], self.steps)
        ph.mark("polyak+read")
        self.steps += 1
        return values


if __name__ == "__main__":
    run_main(BearLag, "bear-lag")
