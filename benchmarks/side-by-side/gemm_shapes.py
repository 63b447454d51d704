#!/usr/bin/env python3
"""Matrix-product rates at the shapes that dominate the CPQ and BEAR-Lag updates, one thread: the forward product of a Linear layer
(addmm with W^T), its weight gradient (gy^T x) and its input gradient (gy W), and the weight gradient computed transposed (x^T gy).  The .NET side runs the same list with
`Marvel.Benchmarks --gemm-shapes`; compare the two within one window (docs/benchmarks.md, Issue 21).

    LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread OPENBLAS_CORETYPE=Haswell /usr/bin/python3 gemm_shapes.py
"""
import time

import torch

# (rows, in, out): the OOD / sampled-action passes (N x batch rows) and the batch passes, at the learners' defaults and at 64.
SHAPES = [(5120, 256, 256), (5120, 400, 400), (512, 256, 256), (512, 400, 400), (2560, 64, 64), (256, 64, 64),
          (5120, 10, 256), (5120, 256, 1), (5120, 10, 400), (5120, 400, 4), (512, 10, 256), (512, 256, 1)]


def rate(fn, flop, seconds=0.25):
    for _ in range(5):
        fn()
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        n += 1
    return flop * n / (time.perf_counter() - start) / 1e9


def main():
    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(1)
    for rows, fan_in, fan_out in SHAPES:
        x, w, b = torch.randn(rows, fan_in, generator=g), torch.randn(fan_out, fan_in, generator=g), torch.randn(fan_out, generator=g)
        gy = torch.randn(rows, fan_out, generator=g)
        flop = 2.0 * rows * fan_in * fan_out
        fwd = rate(lambda: torch.addmm(b, x, w.t()), flop)
        wgrad = rate(lambda: gy.t().mm(x), flop)
        xgrad = rate(lambda: gy.mm(w), flop)
        wgrad_t = rate(lambda: x.t().mm(gy), flop)  # the same weight gradient, transposed
        print(f"{rows}x{fan_in}->{fan_out}: forward {fwd:.1f}, weight grad {wgrad:.1f}, input grad {xgrad:.1f}, "
              f"weight grad transposed {wgrad_t:.1f} GFLOP/s", flush=True)


if __name__ == "__main__":
    main()
