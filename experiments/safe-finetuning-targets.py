#!/usr/bin/env python3
"""Checks the Default row of docs/results/safe-finetuning/runs.csv against the targets of the safe-finetuning issue, per task.

Usage: python3 experiments/safe-finetuning-targets.py [runs.csv] [row ...] > docs/results/safe-finetuning/targets.md
(rows: the algorithm labels to check, default "Default")
Targets (per task, cost limit 20): mean final normalized cost <= 1 and within the limit on all but at most one seed of n (>= 4 of 5,
>= 2 of 3); final reward >= start + 0.1 when the start is within the limit (else >= the best offline start within the limit + 0.1);
final reward >= the scratch row's when that row ends within the limit; reward AUC >= scratch's; cumulative violation <= 1/4 of scratch's.
"""
import csv
import statistics
import sys
from collections import defaultdict

path = sys.argv[1] if len(sys.argv) > 1 else "docs/results/safe-finetuning/runs.csv"
checked = sys.argv[2:] or ["Default"]
rows = defaultdict(list)
for r in csv.DictReader(open(path)):
    rows[(r["task"], r["algorithm"])].append(r)


def mean(task, algorithm, column):
    values = [float(r[column]) for r in rows.get((task, algorithm), []) if r[column] not in ("", "nan")]
    return statistics.mean(values) if values else float("nan")


def ok(flag):
    return "✅" if flag else "❌"


print("| row | task | seeds | cost ≤ 1 (mean; seeds within) | reward vs start | reward vs scratch | AUC vs scratch | violation vs ¼ scratch |")
print("|---|---|---|---|---|---|---|---|")
for label, task in [(label, task) for label in checked for task in sorted({t for t, _ in rows})]:
    default = rows.get((task, label), [])
    if not default:
        continue
    n = len(default)
    costs = [float(r["normalized_cost"]) for r in default]
    within = sum(c <= 1 for c in costs)
    cost_ok = statistics.mean(costs) <= 1 and within >= n - 1
    reward = mean(task, label, "normalized_reward")
    start_reward = mean(task, "Offline-BEARLag", "normalized_reward")
    start_cost = mean(task, "Offline-BEARLag", "normalized_cost")
    starts_within = [float(r["normalized_reward"]) for r in rows.get((task, "Offline-BEARLag"), []) if float(r["normalized_cost"]) <= 1]
    bar = start_reward + 0.1 if start_cost <= 1 else (max(starts_within) + 0.1 if starts_within else float("nan"))
    scratch_reward = mean(task, "Scratch-SACLag", "normalized_reward")
    scratch_cost = mean(task, "Scratch-SACLag", "normalized_cost")
    auc, scratch_auc = mean(task, label, "reward_auc"), mean(task, "Scratch-SACLag", "reward_auc")
    violation, scratch_violation = mean(task, label, "cumulative_violation"), mean(task, "Scratch-SACLag", "cumulative_violation")
    scratch_cell = (f"{ok(reward >= scratch_reward)} {reward:.3f} vs {scratch_reward:.3f}" if scratch_cost <= 1
                    else f"n/a (scratch over the limit: {scratch_cost:.2f})")
    print(f"| {label} | {task} | {n} | {ok(cost_ok)} {statistics.mean(costs):.2f}; {within}/{n} | {ok(reward >= bar)} {reward:.3f} vs {bar:.3f} | "
          f"{scratch_cell} | {ok(auc >= scratch_auc)} {auc:.3f} vs {scratch_auc:.3f} | "
          f"{ok(violation <= scratch_violation / 4)} {violation:.0f} vs {scratch_violation / 4:.0f} |")
