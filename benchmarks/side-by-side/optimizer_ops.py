#!/usr/bin/env python3
"""PyTorch's Adam step, zero_grad and per-tensor Polyak on the twin critic of FlatOptimizerBenchmarks (QEnsemble of 2, [256, 256],
8 + 2 inputs), one thread, median of five rounds; for comparison with that benchmark's numbers in docs/benchmarks.md.

    LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread /usr/bin/python3 benchmarks/side-by-side/optimizer_ops.py
"""
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sac_lag_update import QEnsemble  # noqa: E402


def median_us(fn, repeats):
    rounds = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(repeats):
            fn()
        rounds.append((time.perf_counter() - start) / repeats * 1e6)
    return statistics.median(rounds), rounds


def main():
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(1)
    net = QEnsemble(8, 2, [256, 256], 2, gen)
    target = QEnsemble(8, 2, [256, 256], 2, gen)
    for p in target.parameters():
        p.requires_grad_(False)
    net(torch.randn(256, 8), torch.randn(256, 2)).square().mean().backward()
    for foreach in (False, True):
        opt = torch.optim.Adam(net.parameters(), lr=1e-3, foreach=foreach)
        for _ in range(50):
            opt.step()
        med, rounds = median_us(opt.step, 200)
        print(f"torch {torch.__version__} Adam.step foreach={foreach}: median {med:.1f} us (rounds {', '.join(f'{x:.0f}' for x in rounds)})")

    def polyak():
        with torch.no_grad():
            for p, t in zip(net.parameters(), target.parameters()):
                t.mul_(0.995).add_(p, alpha=0.005)

    print(f"torch zero_grad(set_to_none=False): median {median_us(lambda: opt.zero_grad(set_to_none=False), 500)[0]:.1f} us")
    print(f"torch Polyak per tensor: median {median_us(polyak, 500)[0]:.1f} us")


if __name__ == "__main__":
    main()
