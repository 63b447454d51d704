#!/usr/bin/env bash
# Regenerates the safe-finetuning evidence of docs/results.md ("Safe finetuning: the library's recipe"):
#   stage 1: experiments/safe-finetuning-offline.json    (BEAR-Lag starts, one per task and seed; also the 'offline only' rows)
#   stage 2: experiments/safe-finetuning-v3.json         (round 3: Default = the recipe, Scratch-SACLag = the fair from-scratch baseline,
#                                                         both returning the best evaluated policy within the limit)
#   report:  docs/results/safe-finetuning/               (results.md/.csv, raw runs/training/evaluations CSVs, curves/*.png, targets.md)
# Round 2 (experiments/safe-finetuning.json and -probes.json: the variants that chose the recipe; report in
# docs/results/safe-finetuning-round2/) and the ablations (experiments/safe-finetuning-ablations.json) run with --round2 / --ablations;
# --kappa adds the generalization to kappa = 10 and 40 (safe-finetuning-kappa-offline.json, then safe-finetuning-kappa.json), --probes
# the violation probe of round 4 (safe-finetuning-probe-setpoint.json and its scratch twin, safe-finetuning-v4-scratch3.json; the
# round-4 report is `marvel report` over those runs, the round-3 Default and Scratch-SACLag runs and the starts, seeds 0-2, into
# docs/results/safe-finetuning-round4-probe/); --round5 the probes of round 5 (safe-finetuning-probe-critics.json: fresh critics;
# safe-finetuning-probe-exploration.json: the actor's exploration reset at the handover; report in docs/results/safe-finetuning-round5-probe/);
# --ablations also writes the ablation report (docs/results/safe-finetuning-ablations/).
# Usage: bash experiments/safe-finetuning.sh [workers] [--round2] [--ablations] [--kappa] [--probes] [--round5]   (default: one worker per core)
# Resumable: run it again after an interruption; complete runs are skipped, interrupted ones continue from their checkpoints.
set -euo pipefail
cd "$(dirname "$0")/.."
workers="${1:-$(nproc)}"
bash eng/install-prerequisites.sh
dotnet build src/Marvel.Cli -c Release -warnaserror -nologo -v quiet
marvel=(dotnet "$(find src/Marvel.Cli/bin/Release -name marvel.dll -path '*linux-x64/marvel.dll' | head -1)")
sweeps=(safe-finetuning-offline safe-finetuning-v3)
for flag in "${@:2}"; do
  case "$flag" in
    --round2) sweeps+=(safe-finetuning safe-finetuning-probes) ;;
    --ablations) sweeps+=(safe-finetuning-ablations); ablations=1 ;;
    --kappa) sweeps+=(safe-finetuning-kappa-offline safe-finetuning-kappa); kappa=1 ;;
    --probes) sweeps+=(safe-finetuning-probe-setpoint safe-finetuning-v4-scratch3) ;;
    --round5) sweeps+=(safe-finetuning-probe-critics safe-finetuning-probe-exploration); round5=1 ;;
  esac
done
for sweep in "${sweeps[@]}"; do
  "${marvel[@]}" sweep --config "experiments/$sweep.json" --workers "$workers" --quiet
done
# The main table: round 3's Default and Scratch-SACLag rows and their starts at κ = 20, seeds 0-2 (docs/results/safe-finetuning/), and
# the same rows on all 5 seeds (docs/results/safe-finetuning-5seeds/). The output folder also holds the probe, ablation and κ rows,
# which the globs below leave out.
rows() { for r in Default Scratch-SACLag; do for s in "$@"; do echo runs/safe-finetuning-v3/*_${r}_cost20_seed$s; done; done
         for s in "$@"; do echo runs/safe-finetuning-v2/*_Offline-BEARLag_cost20_seed$s; done; }
"${marvel[@]}" report $(rows 0 1 2) --out docs/results/safe-finetuning
python3 experiments/safe-finetuning-targets.py docs/results/safe-finetuning/runs.csv > docs/results/safe-finetuning/targets.md
"${marvel[@]}" report $(rows 0 1 2 3 4) --out docs/results/safe-finetuning-5seeds
python3 experiments/safe-finetuning-targets.py docs/results/safe-finetuning-5seeds/runs.csv > docs/results/safe-finetuning-5seeds/targets.md
if [ "${kappa:-0}" = 1 ]; then
  # The generalization table: the default at κ = 10 and 40 from starts trained at the same κ (no scratch row at these limits yet).
  "${marvel[@]}" report runs/safe-finetuning-v3/*_Default_cost10_* runs/safe-finetuning-v3/*_Default_cost40_* \
    runs/safe-finetuning-v2/*_Offline-BEARLag_cost10_* runs/safe-finetuning-v2/*_Offline-BEARLag_cost40_* --out docs/results/safe-finetuning-kappa
  python3 experiments/safe-finetuning-targets.py docs/results/safe-finetuning-kappa/runs.csv > docs/results/safe-finetuning-kappa/targets.md
fi
if [ "${ablations:-0}" = 1 ]; then
  # The ablations: each piece of the round-3 recipe switched off alone, BallCircle and CarRun, seeds 0-2, beside the Default rows and starts.
  "${marvel[@]}" report runs/safe-finetuning-v3/{BallCircle,CarRun}_{Default,Ablation*}_cost20_seed{0,1,2} \
    runs/safe-finetuning-v2/{BallCircle,CarRun}_Offline-BEARLag_cost20_seed{0,1,2} --out docs/results/safe-finetuning-ablations
fi
if [ "${round5:-0}" = 1 ]; then
  # Round 5's probes (fresh critics; the actor's exploration reset at the handover) beside the round-3 Default and scratch rows and the starts.
  "${marvel[@]}" report runs/safe-finetuning-v3/{BallCircle,CarRun}_{Default,Scratch-SACLag,Probe-freshCritics,Probe-resetExploration}_cost20_seed{0,1,2} \
    runs/safe-finetuning-v2/{BallCircle,CarRun}_Offline-BEARLag_cost20_seed{0,1,2} --out docs/results/safe-finetuning-round5-probe
  python3 experiments/safe-finetuning-targets.py docs/results/safe-finetuning-round5-probe/runs.csv Default Probe-freshCritics Probe-resetExploration > docs/results/safe-finetuning-round5-probe/targets.md
fi
