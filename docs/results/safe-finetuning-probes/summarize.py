#!/usr/bin/env python3
"""Summarizes finetuning probe runs (marvel finetune run folders) into one Markdown table and copies their small files.

Usage: python3 summarize.py OUT_DIR LABEL=RUN_DIR [LABEL=RUN_DIR ...]
Writes OUT_DIR/summary.md and, per run, OUT_DIR/runs/LABEL/{config.json,result.json,eval.csv,online.csv,qbias.json}.
"""
import csv, json, os, shutil, sys

out = sys.argv[1]
rows = []
for spec in sys.argv[2:]:
    label, run = spec.split("=", 1)
    dest = os.path.join(out, "runs", label)
    os.makedirs(dest, exist_ok=True)
    for name in ["config.json", "result.json", "qbias.json", "metrics/eval.csv", "metrics/online.csv"]:
        src = os.path.join(run, name)
        if os.path.exists(src):
            shutil.copy(src, os.path.join(dest, os.path.basename(name)))
    online = list(csv.DictReader(open(os.path.join(run, "metrics/online.csv"))))
    evals = list(csv.DictReader(open(os.path.join(run, "metrics/eval.csv"))))
    result_path = os.path.join(run, "result.json")
    result = json.load(open(result_path)) if os.path.exists(result_path) else None
    last = evals[-1]
    lambdas = [float(r["lambda"]) for r in online if r.get("lambda")]
    rows.append({
        "label": label,
        "iterations": online[-1]["iteration"] if online else "0",
        "start": f'{float(evals[0]["normalized_reward"]):.3f} / {float(evals[0]["normalized_cost"]):.2f}',
        "final": f'{float(last["normalized_reward"]):.3f} / {float(last["normalized_cost"]):.2f}',
        "final_iteration": last["iteration"],
        "violation": online[-1]["cumulative_violation"] if online else "0",
        "auc": f'{result["normalized_reward_auc"]:.3f}' if result else "(incomplete)",
        "lambda": f"{min(lambdas):.3g} – {max(lambdas):.3g}" if lambdas else "n/a",
    })
with open(os.path.join(out, "summary.md"), "w") as f:
    f.write("| probe | iterations | start (norm. reward / cost) | final evaluation (iteration) | cumulative violation | normalized reward AUC | λ range |\n")
    f.write("|---|---:|---|---|---:|---:|---|\n")
    for r in rows:
        f.write(f'| {r["label"]} | {r["iterations"]} | {r["start"]} | {r["final"]} ({r["final_iteration"]}) | {float(r["violation"]):.0f} | {r["auc"]} | {r["lambda"]} |\n')
print(open(os.path.join(out, "summary.md")).read())
