#!/usr/bin/env python3
"""Checks the Default row of docs/results/safe-finetuning/runs.csv against the targets of the safe-finetuning issue, per task.

Usage: python3 experiments/safe-finetuning-targets.py [--scratch LABEL] [--start LABEL] [--seeds 0,1,2] [runs.csv[,runs.csv...]] [row ...] > targets.md
(rows: the algorithm labels to check, default "Default"; --scratch: the from-scratch row they are compared with, default
"Scratch-SACLag"; --start: the offline-start row, default "Offline-BEARLag"; --seeds: only these seeds, default all)
Targets (per task and cost limit; cells whose comparison row is missing say n/a): mean final normalized cost <= 1 and within the limit on all but at most one seed of n (>= 4 of 5,
>= 2 of 3); final reward >= start + 0.1 when the start is within the limit (else >= the best offline start within the limit + 0.1);
final reward >= the scratch row's when that row ends within the limit; reward AUC >= scratch's; cumulative violation <= 1/4 of scratch's.
"""
import csv
import statistics
import sys
from collections import defaultdict

args = sys.argv[1:]
scratch_label, start_label = "Scratch-SACLag", "Offline-BEARLag"
seeds = None
while args and args[0] in ("--scratch", "--start", "--seeds"):
    if args[0] == "--scratch":
        scratch_label = args[1]
    elif args[0] == "--seeds":
        seeds = {int(x) for x in args[1].split(",")}
    else:
        start_label = args[1]
    args = args[2:]
path = args[0] if args else "docs/results/safe-finetuning/runs.csv"
checked = args[1:] or ["Default"]
rows = defaultdict(list)
seen = set()
for part in path.split(","):   # several runs.csv files, comma-separated: a run folder listed twice counts once (the first file wins)
    for r in csv.DictReader(open(part)):
        if r["run"] in seen or (seeds is not None and int(r["seed"]) not in seeds):
            continue
        seen.add(r["run"])
        rows[((r["task"], float(r["cost_limit"])), r["algorithm"])].append(r)


def mean(task, algorithm, column):
    values = [float(r[column]) for r in rows.get((task, algorithm), []) if r[column] not in ("", "nan", "NaN")]
    return statistics.mean(values) if values else float("nan")


def label_of(task):
    name, limit = task
    return f"{name} (κ {limit:g})"


def ok(flag):
    return "✅" if flag else "❌"


print(f"Compared with the `{scratch_label}` row and the `{start_label}` starts.")
print()
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
    start_reward = mean(task, start_label, "normalized_reward")
    start_cost = mean(task, start_label, "normalized_cost")
    # From a start over the limit the bar is the best offline policy within the limit on the task: any 'Offline-*' row of the input.
    starts_within = [float(r["normalized_reward"]) for (t, a), rs in rows.items() if t == task and a.startswith("Offline-")
                     for r in rs if float(r["normalized_cost"]) <= 1]
    bar = start_reward + 0.1 if start_cost <= 1 else (max(starts_within) + 0.1 if starts_within else float("nan"))
    scratch_reward = mean(task, scratch_label, "normalized_reward")
    scratch_cost = mean(task, scratch_label, "normalized_cost")
    auc, scratch_auc = mean(task, label, "reward_auc"), mean(task, scratch_label, "reward_auc")
    violation, scratch_violation = mean(task, label, "cumulative_violation"), mean(task, scratch_label, "cumulative_violation")
    if scratch_reward != scratch_reward:   # no scratch row for this task and limit
        scratch_cell = "n/a (no scratch row)"
    elif scratch_cost <= 1:
        scratch_cell = f"{ok(reward >= scratch_reward)} {reward:.3f} vs {scratch_reward:.3f}"
    else:
        scratch_cell = f"n/a (scratch over the limit: {scratch_cost:.2f})"
    auc_cell = f"{ok(auc >= scratch_auc)} {auc:.3f} vs {scratch_auc:.3f}" if scratch_auc == scratch_auc else "n/a"
    violation_cell = (f"{ok(violation <= scratch_violation / 4)} {violation:.0f} vs {scratch_violation / 4:.0f}"
                      if scratch_violation == scratch_violation else f"{violation:.0f} (no scratch row)")
    print(f"| {label} | {label_of(task)} | {n} | {ok(cost_ok)} {statistics.mean(costs):.2f}; {within}/{n} | {ok(reward >= bar)} {reward:.3f} vs {bar:.3f} | "
          f"{scratch_cell} | {auc_cell} | {violation_cell} |")
