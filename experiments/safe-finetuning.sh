#!/usr/bin/env bash
# Regenerates the safe-finetuning evidence of docs/results.md ("Safe finetuning: the library's recipe"):
#   stage 1: experiments/safe-finetuning-offline.json    (BEAR-Lag starts, one per task and seed; also the 'offline only' rows)
#   stage 2: experiments/safe-finetuning.json            (Default = the recipe, Scratch-SACLag = the fair from-scratch baseline)
#            experiments/safe-finetuning-probes.json     (single-seed probes: set point 0.5·κ, +VPA)
#            experiments/safe-finetuning-ablations.json  (each piece of the recipe switched off alone; optional: pass --ablations)
#   report:  docs/results/safe-finetuning/               (results.md/.csv, raw runs/training/evaluations CSVs, curves/*.png)
# Usage: bash experiments/safe-finetuning.sh [workers] [--ablations]   (default: one worker process per core)
# Resumable: run it again after an interruption; complete runs are skipped, interrupted ones continue from their checkpoints.
set -euo pipefail
cd "$(dirname "$0")/.."
workers="${1:-$(nproc)}"
bash eng/install-prerequisites.sh
dotnet build src/Marvel.Cli -c Release -warnaserror -nologo -v quiet
marvel=(dotnet "$(find src/Marvel.Cli/bin/Release -name marvel.dll -path '*linux-x64/marvel.dll' | head -1)")
sweeps=(safe-finetuning-offline safe-finetuning safe-finetuning-probes)
if [ "${2:-}" = "--ablations" ]; then sweeps+=(safe-finetuning-ablations); fi
for sweep in "${sweeps[@]}"; do
  "${marvel[@]}" sweep --config "experiments/$sweep.json" --workers "$workers" --quiet
done
"${marvel[@]}" report runs/safe-finetuning-v2/*_cost* --out docs/results/safe-finetuning
python3 experiments/safe-finetuning-targets.py docs/results/safe-finetuning/runs.csv > docs/results/safe-finetuning/targets.md
