#!/usr/bin/env bash
# Regenerates the scaled-down reproduction of docs/results.md ("Marvel against its baselines"):
#   stage 1: experiments/reproduction-offline.json  (the offline policies; each seed's CPQ and BEAR-Lag run once)
#   stage 2: experiments/reproduction.json          (the online rows, started from stage 1's handover/ folders via Run:Artifact)
#   report:  docs/results/reproduction/              (results.md/.csv, raw runs/training/evaluations CSVs, curves/*.png)
# Usage: bash experiments/reproduction.sh [workers]     (default: one worker process per core)
# Resumable: run it again after an interruption; complete runs are skipped, interrupted ones continue from their checkpoints.
set -euo pipefail
cd "$(dirname "$0")/.."
workers="${1:-$(nproc)}"
bash eng/install-prerequisites.sh
dotnet build src/Marvel.Cli -c Release -warnaserror -nologo -v quiet
marvel=(dotnet "$(find src/Marvel.Cli/bin/Release -name marvel.dll -path '*linux-x64/marvel.dll' | head -1)")
"${marvel[@]}" sweep --config experiments/reproduction-offline.json --workers "$workers" --quiet
"${marvel[@]}" sweep --config experiments/reproduction.json --workers "$workers" --quiet
"${marvel[@]}" report runs/reproduction --out docs/results/reproduction
