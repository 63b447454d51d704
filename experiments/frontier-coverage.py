#!/usr/bin/env python3
"""Coverage of DSRL-layout datasets over the (episode cost, episode return) plane.

For each file: episodes and transitions, the occupied cells of a fixed grid (cost 0..cost-max, return lo..hi; the same grid for
every file so that files compare), and the frontier: the best episode return at episode cost <= each limit.
Usage: frontier-coverage.py [--cost-max 80] [--return-range -1000,1500] [--bins 20] [--limits 10,20,40] a.hdf5 [b.hdf5 ...]
Needs python3-h5py (Debian) and numpy.
"""
import argparse

import h5py
import numpy as np


def episodes(path):
    with h5py.File(path, "r") as f:
        rewards, costs = f["rewards"][:].ravel(), f["costs"][:].ravel()
        ends = np.logical_or(f["terminals"][:].ravel() != 0, f["timeouts"][:].ravel() != 0)
    bounds = np.flatnonzero(ends) + 1
    starts = np.concatenate([[0], bounds[:-1]])
    returns = np.array([rewards[s:e].sum() for s, e in zip(starts, bounds)])
    cost = np.array([costs[s:e].sum() for s, e in zip(starts, bounds)])
    return returns, cost, int(bounds[-1]) if len(bounds) else 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("files", nargs="+")
    p.add_argument("--cost-max", type=float, default=80)
    p.add_argument("--return-range", default="-1000,1500")
    p.add_argument("--bins", type=int, default=20)
    p.add_argument("--limits", default="10,20,40")
    a = p.parse_args()
    lo, hi = (float(x) for x in a.return_range.split(","))
    limits = [float(x) for x in a.limits.split(",")]
    head = "| file | episodes | transitions | occupied cells | " + " | ".join(f"best return, cost ≤ {l:g}" for l in limits) + " |"
    print(head)
    print("|---|---:|---:|---:|" + "---:|" * len(limits))
    for path in a.files:
        returns, cost, n = episodes(path)
        inside = cost <= a.cost_max
        ci = np.clip(np.floor(cost[inside] / a.cost_max * a.bins), 0, a.bins - 1).astype(int)
        ri = np.clip(np.floor((returns[inside] - lo) / (hi - lo) * a.bins), 0, a.bins - 1).astype(int)
        cells = len(set(zip(ci.tolist(), ri.tolist())))
        best = [returns[cost <= l].max() if np.any(cost <= l) else float("nan") for l in limits]
        print(f"| {path.split('/')[-1]} | {len(returns)} | {n} | {cells} | " + " | ".join(f"{b:.0f}" for b in best) + " |")


if __name__ == "__main__":
    main()
