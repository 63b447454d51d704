#!/usr/bin/env bash
# Regenerates the scaled-down reproduction of docs/results.md ("Marvel against its baselines"):
#   stage 1: experiments/reproduction-offline.json            (BallCircle offline policies; each seed's CPQ and BEAR-Lag run once)
#            experiments/reproduction-carcircle-offline.json  (CarCircle, CPQ and BEAR-Lag)
#            experiments/reproduction-run-offline.json        (BallRun and CarRun, CPQ and BEAR-Lag, 5 seeds)
#   stage 2: experiments/reproduction.json                    (the online rows, started from stage 1's handover/ folders via Run:Artifact)
#            experiments/reproduction-carcircle.json
#            experiments/reproduction-run.json                (BallRun and CarRun: the eight online rows, 5 seeds)
#   report:  docs/results/reproduction/     BallCircle, CarCircle (results.md/.csv, raw runs/training/evaluations CSVs, curves/*.png)
#            docs/results/reproduction-run/ BallRun, CarRun (the same files)
# Usage: bash experiments/reproduction.sh [workers]     (default: one worker process per core)
# Resumable: run it again after an interruption; complete runs are skipped, interrupted ones continue from their checkpoints.
set -euo pipefail
cd "$(dirname "$0")/.."
workers="${1:-$(nproc)}"
bash eng/install-prerequisites.sh
dotnet build src/Marvel.Cli -c Release -warnaserror -nologo -v quiet
marvel=(dotnet "$(find src/Marvel.Cli/bin/Release -name marvel.dll -path '*linux-x64/marvel.dll' | head -1)")
for sweep in reproduction-offline reproduction-carcircle-offline reproduction-run-offline \
             reproduction reproduction-carcircle reproduction-run; do
  "${marvel[@]}" sweep --config "experiments/$sweep.json" --workers "$workers" --quiet
done
# Two reports, as committed: the Circle tasks (3 seeds) and the Run tasks (5 seeds).
"${marvel[@]}" report runs/reproduction/BallCircle_* runs/reproduction/CarCircle_* --out docs/results/reproduction
"${marvel[@]}" report runs/reproduction/BallRun_* runs/reproduction/CarRun_* --out docs/results/reproduction-run
