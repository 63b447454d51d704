#!/usr/bin/env python3
"""Composes the outcome of CriticHandoverRule.WithinLimitStart per task and seed from the two rows it chooses between.

A run with that rule ends exactly as the run with the handover it decides (test
WithinLimitStart_EndsExactlyAsTheRunWithItsDecidedHandoverFromTheStart), so before the rule's own runs exist its outcome can be read off
'Probe-vpaCostCritic' (VPA, the aligned cost critic alone) where the start's iteration-0 evaluation bound (mean cost + 1.645 standard
errors, the pipeline's ReturnedPolicyStandardErrors) is within the limit, and off 'Probe-fresh+sp05' (the default) where it is not.

Usage (after `bash experiments/safe-finetuning.sh 2 --round6`):
  python3 experiments/safe-finetuning-start-rule-compose.py > docs/results/safe-finetuning-round6-probe/start-rule-composed.csv
  python3 experiments/safe-finetuning-targets.py --scratch Scratch-setPoint05 docs/results/safe-finetuning-round6-probe/start-rule-composed.csv \
      Composed-startRule Probe-fresh+sp05 > docs/results/safe-finetuning-round6-probe/start-rule-targets.md
Reads runs/safe-finetuning-v3 (the run folders) and docs/results/safe-finetuning-round6-probe/runs.csv (the rows it copies).
"""
import csv
import math
import sys

report = "docs/results/safe-finetuning-round6-probe/runs.csv"
runs = "runs/safe-finetuning-v3"
limit = 20.0
rows = list(csv.DictReader(open(report)))
writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0].keys()), lineterminator="\n")
writer.writeheader()
by_key = {(r["task"], r["algorithm"], r["seed"]): r for r in rows}
for r in rows:
    if r["algorithm"] in ("Probe-fresh+sp05", "Scratch-setPoint05", "Offline-BEARLag"):
        writer.writerow(r)
for (task, algorithm, seed), r in sorted(by_key.items()):
    if algorithm != "Probe-vpaCostCritic":
        continue
    default = by_key.get((task, "Probe-fresh+sp05", seed))
    if default is None:
        continue
    with open(f"{runs}/{default['run']}/metrics/eval.csv") as f:
        start = next(csv.DictReader(f))
    n, mean, std = float(start["episodes"]), float(start["mean_cost"]), float(start["std_cost"])
    # eval.csv holds the population std; the pipeline's bound uses the sample std.
    bound = mean + 1.645 * std * math.sqrt(n / (n - 1)) / math.sqrt(n) if n > 1 else mean
    chosen = dict(r if bound <= limit else default)
    chosen["algorithm"] = "Composed-startRule"
    chosen["setting"] = f"start bound {bound:.1f}: {'aligned cost critic' if bound <= limit else 'fresh critics'}"
    writer.writerow(chosen)
