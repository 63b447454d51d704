#!/usr/bin/env bash
# Regenerates the scaled-down reproduction of docs/results.md ("Marvel against its baselines"):
#   stage 1: experiments/reproduction-offline.json            (BallCircle offline policies; each seed's CPQ and BEAR-Lag run once)
#            experiments/reproduction-carcircle-offline.json  (CarCircle, CPQ only)
#   stage 2: experiments/reproduction.json                    (the online rows, started from stage 1's handover/ folders via Run:Artifact)
#            experiments/reproduction-carcircle.json
#   report:  docs/results/reproduction/              (results.md/.csv, raw runs/training/evaluations CSVs, curves/*.png)
# Usage: bash experiments/reproduction.sh [workers]     (default: one worker process per core)
# Resumable: run it again after an interruption; complete runs are skipped, interrupted ones continue from their checkpoints.
set -euo pipefail
cd "$(dirname "$0")/.."
workers="${1:-$(nproc)}"
bash eng/install-prerequisites.sh
dotnet build src/Marvel.Cli -c Release -warnaserror -nologo -v quiet
marvel=(dotnet "$(find src/Marvel.Cli/bin/Release -name marvel.dll -path '*linux-x64/marvel.dll' | head -1)")
for sweep in reproduction-offline reproduction-carcircle-offline reproduction reproduction-carcircle; do
  "${marvel[@]}" sweep --config "experiments/$sweep.json" --workers "$workers" --quiet
done
"${marvel[@]}" report runs/reproduction --out docs/results/reproduction
