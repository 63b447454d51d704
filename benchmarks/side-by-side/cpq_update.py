#!/usr/bin/env python3
"""PyTorch timing twin of one Marvel CPQ gradient step (CpqLearner.Update at CpqOptions' defaults but the sizes given), a worker of
run.py.  Same work as the .NET learner (src/Marvel.Core/Algorithms/Offline/Cpq/CpqLearner.cs; algorithms spec section 1):

  0. a uniform batch from the data, rewards scaled by 0.1, continuation masks;
  1. VAE step: encode (s, a), reparameterised latent, decode, MSE + 0.5 KL, Adam;
  2. reward critic (2 members): under no_grad a' ~ pi(s'), min of the 2 target members, mean of the 2 cost-target members, the
     gate 1[Q_c <= q_thres]; regression of both members, Adam;
  3. cost critic (2 members): under no_grad a fresh a'' ~ pi(s'), cost target mean, y_c clamped to the cost-value range; the OOD
     term: under no_grad the actor's Gaussian at s, N = 10 pre-squash samples per state, tanh, the VAE encoder on all N x batch
     pairs and their KL; with gradient the online cost members on the N x batch pairs (mean over members), the 0.75-quantile
     gate over the KL and the mean over the gated pairs; loss = TD - alpha (ood - qc_thres), Adam;
  4. dual alpha: projected ascent on alpha (no gradient);
  5. actor: critics frozen, a ~ pi(s) with gradient, min of the reward members, mean of the cost members, gated -mean Q, Adam;
  6. Polyak of both target ensembles (tau 0.005);
  7. one host read of the nine logged scalars, which is also the NaN check.

Where it differs from the .NET side (see docs/benchmarks.md): Adam and Polyak go tensor by tensor (PyTorch's CPU default; Marvel
runs each over one flat buffer per network), and the data is random, not a generated BallCircle set (the gates therefore open on
other pairs; the work does not depend on which).

Protocol: see offline_twin.serve.  Alone: `python3 cpq_update.py --hidden 64,64 --vae-hidden 64 --batch 256` then type 20.
"""

import torch

from offline_twin import run_main, Dataset, Phases, QEnsemble, SquashedActor, Vae, common_args, kl_terms, polyak, report, serve, \
    set_requires_grad, setup_threads, step


class Cpq:
    def __init__(self, obs, act, hidden, vae_hidden, batch, foreach, phases, seed=1):
        gen = torch.Generator().manual_seed(seed)
        self.obs, self.act, self.batch = obs, act, batch
        self.actor = SquashedActor(obs, act, hidden, gen)
        self.reward = QEnsemble(obs, act, hidden, 2, gen)
        self.reward_target = QEnsemble(obs, act, hidden, 2, gen)
        self.cost = QEnsemble(obs, act, hidden, 2, gen)
        self.cost_target = QEnsemble(obs, act, hidden, 2, gen)
        self.vae = Vae(obs, act, vae_hidden, 1.0, gen)
        self.reward_target.load_state_dict(self.reward.state_dict())
        self.cost_target.load_state_dict(self.cost.state_dict())
        set_requires_grad([self.reward_target, self.cost_target], False)
        adam = lambda m, lr: torch.optim.Adam(m.parameters(), lr=lr, foreach=foreach or None)  # noqa: E731
        self.actor_opt, self.reward_opt = adam(self.actor, 1e-4), adam(self.reward, 1e-3)
        self.cost_opt, self.vae_opt = adam(self.cost, 1e-3), adam(self.vae, 1e-3)
        self.log_alpha = torch.zeros(())
        self.noise = torch.Generator().manual_seed(seed + 1)
        self.data = Dataset(obs, act, 20000, seed + 2)
        # kappa 10, T 200, gamma 0.99, bootstrapping through truncation: q_thres = 10 / (200 * 0.01) = 5; qc_thres = 1.5 q_thres;
        # costs in {0, 1}: cost values in [0, 100].
        self.q_thres, self.ood_thres, self.cost_bounds = 5.0, 7.5, (0.0, 100.0)
        self.gamma, self.tau, self.n = 0.99, 0.005, 10
        self.max_action = 1.0   # BallCircle's box; Marvel multiplies by it, so does the twin
        self.phases = phases
        self.steps = 0

    def ood_cost_value(self, s):
        n, batch, g = self.n, s.shape[0], self.noise
        with torch.no_grad():
            mean, log_std = self.actor.distribution(s)
            u = mean.unsqueeze(0) + log_std.exp().unsqueeze(0) * torch.randn(n, batch, self.act, generator=g)
            actions = u.tanh() * self.max_action
            repeated = s.unsqueeze(0).expand(n, batch, self.obs)
            z_mean, z_log_std = self.vae.encode(repeated, actions)
            kl = kl_terms(z_mean, z_log_std).mean(-1)                                    # [N, batch]
        flat_s = s.unsqueeze(0).expand(n, batch, self.obs).reshape(n * batch, self.obs)
        values = self.cost(flat_s, actions.reshape(n * batch, self.act)).mean(0).view(n, batch)
        level = kl.flatten().quantile(torch.tensor(0.75), 0)
        unlikely = (kl >= level).float()
        per_pair = unlikely.numel() / unlikely.sum().clamp_min(1)
        return ((unlikely * values).sum(0) * per_pair / n).mean()

    def update(self):
        ph = self.phases
        ph.start()
        s, a, r, c, s2, cont, cost_cont = self.data.sample(self.batch)
        vae_loss = self.vae.loss(s, a, 0.5, self.noise)
        step(self.vae_opt, vae_loss)
        ph.mark("vae")

        with torch.no_grad():
            a2 = self.actor.sample_action(s2, self.noise) * self.max_action
            next_q = self.reward_target.min(s2, a2)
            next_cost = self.cost_target(s2, a2).mean(0)
            y_r = r + (next_cost <= self.q_thres).float() * next_q * cont * self.gamma
        reward_loss = self.reward.loss(s, a, y_r)
        step(self.reward_opt, reward_loss)
        ph.mark("reward")

        with torch.no_grad():
            a2 = self.actor.sample_action(s2, self.noise) * self.max_action
            y_c = (c + cost_cont * self.gamma * self.cost_target(s2, a2).mean(0)).clamp_(*self.cost_bounds)
        ood = self.ood_cost_value(s)
        alpha = self.log_alpha.exp()
        cost_td = self.cost.loss(s, a, y_c)
        cost_loss = cost_td - alpha * (ood - self.ood_thres)
        step(self.cost_opt, cost_loss)
        with torch.no_grad():
            gap = self.ood_thres - ood.detach()
            self.log_alpha.copy_((self.log_alpha.exp() + gap * 1e-4).clamp_(torch.e ** -5, torch.e ** 5).log())
        ph.mark("cost")

        set_requires_grad([self.reward, self.cost], False)
        action = self.actor.sample_action(s, self.noise) * self.max_action
        q = self.reward.min(s, action)
        qc = self.cost(s, action).mean(0)
        actor_loss = -((qc.detach() <= self.q_thres).float() * q).mean()
        step(self.actor_opt, actor_loss)
        set_requires_grad([self.reward, self.cost], True)
        ph.mark("actor")

        polyak(self.tau, self.reward, self.reward_target)
        polyak(self.tau, self.cost, self.cost_target)
        values = report([vae_loss, reward_loss, cost_loss, cost_td, actor_loss, self.log_alpha.exp(), ood, qc.mean(), q.mean()],
                        self.steps)
        ph.mark("polyak+read")
        self.steps += 1
        return values


if __name__ == "__main__":
    run_main(Cpq, "cpq")
