#!/usr/bin/env bash
# Regenerates the safe-finetuning evidence of docs/results.md ("Safe finetuning: the library's recipe"):
#   stage 1: experiments/safe-finetuning-offline.json     (BEAR-Lag starts, one per task and seed; also the 'offline only' rows)
#   stage 2: experiments/safe-finetuning-probe-combos5.json (the library default since round 5: fresh critics, set point 0.5·κ;
#                                                          its rows are named 'Probe-fresh+sp05')
#            experiments/safe-finetuning-v4-scratch5.json  (the fair from-scratch baseline at the same set point, 'Scratch-setPoint05')
#   report:  docs/results/safe-finetuning-round5/          (results.md/.csv, raw runs/training/evaluations CSVs, curves/*.png, targets.md)
# Flags add earlier rounds and studies:
#   --round2     the variants that chose round 2's recipe (safe-finetuning.json, -probes.json; report in docs/results/safe-finetuning-round2/)
#   --round3     round 3's Default and Scratch-SACLag rows (safe-finetuning-v3.json; reports docs/results/safe-finetuning/, -5seeds/) and
#                its κ = 10 / 40 rows (safe-finetuning-kappa.json; docs/results/safe-finetuning-kappa/)
#   --probes     round 4's set-point probe and its scratch twin (safe-finetuning-probe-setpoint.json, -v4-scratch3.json)
#   --round5     round 5's probes: fresh critics, VPA, the actor's exploration reset, fresh critics + reset, VPA at 0.5·κ (report in
#                docs/results/safe-finetuning-round5-probe/)
#   --round6     round 6's probes: VPA at 0.5·κ with both aligned critics, with the aligned cost critic alone (5 seeds), the actor
#                learning-rate ramp, the measured critic check (stopped after 2 runs), the start rule (the aligned cost critic only from a
#                start within the limit) (report in docs/results/safe-finetuning-round6-probe/)
#   --round7     round 7's probes: the actor learning-rate ramp, the policy set's cost guard without and with the controller charge,
#                the controller's anti-windup from BEAR-Lag and CPQ starts (implies --starts; reports in
#                docs/results/safe-finetuning-round7-probe/ and docs/results/safe-finetuning-starts/)
#   --starts     the default from CPQ starts at the BEAR-Lag starts' budget (safe-finetuning-offline-starts.json,
#                -from-starts.json; report in docs/results/safe-finetuning-starts/)
#   --paper      the issue's other rows from the CPQ starts, 4 tasks × 5 seeds: Marvel's paper recipe ('Paper-Marvel'), the same without
#                alignment ('WarmStart-noVPA') and the default ('Default-fromCPQ') (safe-finetuning-offline-starts.json, -paper.json,
#                -from-starts.json; report in docs/results/safe-finetuning-paper/)
#   --round8     round 8's probe: λ raised to the cost-neutral value at the actor's first update (safe-finetuning-probe-cost-neutral.json;
#                report in docs/results/safe-finetuning-round8-probe/)
#   --ds1        the default, unchanged, on dataset seed 1 (the recipe was chosen on dataset seed 0): BEAR-Lag starts and finetuning,
#                4 tasks × seeds 0-1 (safe-finetuning-offline-ds1.json, -ds1.json; report in docs/results/safe-finetuning-ds1/)
#   --frontier   the default from BEAR-Lag starts trained on the frontier datasets (issue 20), 4 tasks × seeds 0-4; generates
#                data/<task>-frontier.hdf5 first with `marvel collect --recipe frontier --seed 0` (hours per task; cached)
#                (safe-finetuning-frontier-offline.json, -frontier.json; report in docs/results/safe-finetuning-frontier/), and the
#                same at κ = 10, seeds 0-2 (-frontier-kappa-offline.json, -frontier-kappa.json; docs/results/safe-finetuning-frontier-kappa10/)
#                (probe, run alone: safe-finetuning-frontier-probe-critics.json, the starts' critics handed over too)
#   --kappa      the default at κ = 10 and 40 (safe-finetuning-kappa-offline.json, -kappa5.json; docs/results/safe-finetuning-kappa5/)
#   --ablations  each piece of the default switched off alone (safe-finetuning-ablations5.json; docs/results/safe-finetuning-ablations5/),
#                and of round 3's recipe (safe-finetuning-ablations.json; docs/results/safe-finetuning-ablations/)
# Usage: bash experiments/safe-finetuning.sh [workers] [--round2] [--round3] [--probes] [--round5] [--round6] [--round7] [--round8] [--starts] [--paper] [--ds1] [--frontier] [--kappa] [--ablations]
#        (default: one worker per core)
# Resumable: run it again after an interruption; complete runs are skipped, interrupted ones continue from their checkpoints.
set -euo pipefail
cd "$(dirname "$0")/.."
workers="${1:-$(nproc)}"
bash eng/install-prerequisites.sh
dotnet build src/Marvel.Cli -c Release -warnaserror -nologo -v quiet
marvel=(dotnet "$(find src/Marvel.Cli/bin/Release -name marvel.dll -path '*linux-x64/marvel.dll' | head -1)")
shopt -s nullglob
sweeps=(safe-finetuning-offline safe-finetuning-probe-combos5 safe-finetuning-v4-scratch5)
for flag in "${@:2}"; do
  case "$flag" in
    --round2) sweeps+=(safe-finetuning safe-finetuning-probes) ;;
    --round3) sweeps+=(safe-finetuning-v3 safe-finetuning-kappa-offline safe-finetuning-kappa); round3=1 ;;
    --ablations) sweeps+=(safe-finetuning-ablations5 safe-finetuning-probe-critics safe-finetuning-v3 safe-finetuning-probe-setpoint safe-finetuning-ablations); ablations=1 ;;
    --round6) sweeps+=(safe-finetuning-probe-combos5 safe-finetuning-probe-vpa-sp05 safe-finetuning-probe-vpa-cost5 safe-finetuning-probe-actor-ramp
                       safe-finetuning-probe-critic-rule safe-finetuning-probe-start-rule safe-finetuning-probe-start-rule-kappa); round6=1 ;;
    --round7) sweeps+=(safe-finetuning-probe-combos5 safe-finetuning-probe-actor-ramp safe-finetuning-probe-cost-guard
                       safe-finetuning-probe-cost-guard-charged safe-finetuning-offline-starts safe-finetuning-from-starts
                       safe-finetuning-probe-anti-windup); round7=1; starts=1 ;;
    --starts) sweeps+=(safe-finetuning-offline-starts safe-finetuning-from-starts); starts=1 ;;
    --paper) sweeps+=(safe-finetuning-offline-starts safe-finetuning-paper safe-finetuning-from-starts); paper=1 ;;
    --round8) sweeps+=(safe-finetuning-probe-cost-neutral); round8=1 ;;
    --ds1) sweeps+=(safe-finetuning-offline-ds1 safe-finetuning-ds1); ds1=1 ;;
    --frontier) sweeps+=(safe-finetuning-frontier-offline safe-finetuning-frontier safe-finetuning-frontier-kappa-offline safe-finetuning-frontier-kappa); frontier=1
                for task in BallRun BallCircle CarRun CarCircle; do
                  [ -f "data/$task-frontier.hdf5" ] || "${marvel[@]}" collect --task "$task" --recipe frontier --seed 0 --out "data/$task-frontier.hdf5" --quiet
                done ;;
    --kappa) sweeps+=(safe-finetuning-kappa-offline safe-finetuning-kappa5); kappa=1 ;;
    --probes) sweeps+=(safe-finetuning-v3 safe-finetuning-probe-setpoint safe-finetuning-v4-scratch3) ;;
    --round5) sweeps+=(safe-finetuning-v3 safe-finetuning-probe-critics safe-finetuning-probe-exploration safe-finetuning-probe-vpa
                       safe-finetuning-probe-fresh-explore safe-finetuning-probe-vpa-sp05); round5=1 ;;
  esac
done
for sweep in "${sweeps[@]}"; do
  "${marvel[@]}" sweep --config "experiments/$sweep.json" --workers "$workers" --quiet
done
# The main table (round 5, the library default since then): fresh critics at set point 0.5·κ ('Probe-fresh+sp05' in the run folders),
# its fair scratch twin at the same set point ('Scratch-setPoint05') and the starts, κ = 20, seeds 0-4 (docs/results/safe-finetuning-round5/).
# The output folder also holds the probe, ablation and κ rows, which the globs below leave out.
"${marvel[@]}" report runs/safe-finetuning-v3/*_{Probe-fresh+sp05,Scratch-setPoint05}_cost20_seed[0-4] \
  runs/safe-finetuning-v2/*_Offline-BEARLag_cost20_seed[0-4] --out docs/results/safe-finetuning-round5
python3 experiments/safe-finetuning-targets.py --scratch Scratch-setPoint05 docs/results/safe-finetuning-round5/runs.csv Probe-fresh+sp05 \
  > docs/results/safe-finetuning-round5/targets.md
if [ "${round3:-0}" = 1 ]; then
  # Round 3's table: its Default and Scratch-SACLag rows and their starts, seeds 0-2 (docs/results/safe-finetuning/) and 0-4 (-5seeds/).
  rows() { for r in Default Scratch-SACLag; do for s in "$@"; do echo runs/safe-finetuning-v3/*_${r}_cost20_seed$s; done; done
           for s in "$@"; do echo runs/safe-finetuning-v2/*_Offline-BEARLag_cost20_seed$s; done; }
  "${marvel[@]}" report $(rows 0 1 2) --out docs/results/safe-finetuning
  python3 experiments/safe-finetuning-targets.py docs/results/safe-finetuning/runs.csv > docs/results/safe-finetuning/targets.md
  "${marvel[@]}" report $(rows 0 1 2 3 4) --out docs/results/safe-finetuning-5seeds
  python3 experiments/safe-finetuning-targets.py docs/results/safe-finetuning-5seeds/runs.csv > docs/results/safe-finetuning-5seeds/targets.md
fi
if [ "${kappa:-0}" = 1 ]; then
  # The generalization table: the default at κ = 10 and 40 from starts trained at the same κ (no scratch row at these limits yet).
  "${marvel[@]}" report runs/safe-finetuning-v3/*_Probe-fresh+sp05_cost10_* runs/safe-finetuning-v3/*_Probe-fresh+sp05_cost40_* \
    runs/safe-finetuning-v2/*_Offline-BEARLag_cost10_* runs/safe-finetuning-v2/*_Offline-BEARLag_cost40_* --out docs/results/safe-finetuning-kappa5
  python3 experiments/safe-finetuning-targets.py docs/results/safe-finetuning-kappa5/runs.csv Probe-fresh+sp05 > docs/results/safe-finetuning-kappa5/targets.md
fi
if [ "${round3:-0}" = 1 ]; then
  # Round 3's default at κ = 10 and 40.
  "${marvel[@]}" report runs/safe-finetuning-v3/*_Default_cost10_* runs/safe-finetuning-v3/*_Default_cost40_* \
    runs/safe-finetuning-v2/*_Offline-BEARLag_cost10_* runs/safe-finetuning-v2/*_Offline-BEARLag_cost40_* --out docs/results/safe-finetuning-kappa
  python3 experiments/safe-finetuning-targets.py docs/results/safe-finetuning-kappa/runs.csv > docs/results/safe-finetuning-kappa/targets.md
fi
if [ "${ablations:-0}" = 1 ]; then
  # The ablations of the default: each piece switched off alone, BallCircle and CarRun, seeds 0-2, beside the default rows and the starts;
  # set point 0.8·κ is 'Probe-freshCritics', handed-over critics 'Probe-setPoint05' (docs/results/safe-finetuning-ablations5/).
  "${marvel[@]}" report runs/safe-finetuning-v3/{BallCircle,CarRun}_{Probe-fresh+sp05,Ablation5-*,Probe-freshCritics,Probe-setPoint05}_cost20_seed[0-2] \
    runs/safe-finetuning-v2/{BallCircle,CarRun}_Offline-BEARLag_cost20_seed[0-2] --out docs/results/safe-finetuning-ablations5
  # Round 3's ablations (its recipe with each piece switched off; docs/results/safe-finetuning-ablations/).
  "${marvel[@]}" report runs/safe-finetuning-v3/{BallCircle,CarRun}_{Default,Ablation-*,Ablation+*}_cost20_seed[0-2] \
    runs/safe-finetuning-v2/{BallCircle,CarRun}_Offline-BEARLag_cost20_seed[0-2] --out docs/results/safe-finetuning-ablations
fi
if [ "${round5:-0}" = 1 ]; then
  # Round 5's probes, seeds 0-2: the round-3 Default with fresh critics, with VPA, with the actor's exploration reset, fresh critics with
  # the reset, fresh critics at 0.5·κ, beside round 3's Default and scratch rows, round 4's 0.5·κ rows and the starts.
  "${marvel[@]}" report runs/safe-finetuning-v3/*_{Default,Scratch-SACLag,Probe-setPoint05,Scratch-setPoint05,Probe-freshCritics,Probe-fresh+sp05,Ablation+VPA,Ablation5-alignedCritics,Probe-resetExploration,Probe-fresh+explore}_cost20_seed[0-2] \
    runs/safe-finetuning-v2/*_Offline-BEARLag_cost20_seed[0-2] --out docs/results/safe-finetuning-round5-probe
fi
if [ "${starts:-0}" = 1 ]; then
  # The default from the CPQ starts, beside those starts, seeds 0-2 (docs/results/safe-finetuning-starts/); targets against the scratch
  # twin of round 5's table (seeds 0-2). BCQ-Lag starts cannot be taken over by SAC-Lag (its actor perturbs VAE decodes).
  # With --round7 the anti-windup probe from the same starts ('Probe-antiWindupCPQ') joins them.
  "${marvel[@]}" report runs/safe-finetuning-v3/*_{Default-fromCPQ,Probe-antiWindupCPQ}_cost20_seed[0-2] runs/safe-finetuning-v2/*_Offline-CPQ_cost20_seed[0-2] \
    --out docs/results/safe-finetuning-starts
  python3 experiments/safe-finetuning-targets.py --scratch Scratch-setPoint05 --start Offline-CPQ --seeds 0,1,2 \
    docs/results/safe-finetuning-starts/runs.csv,docs/results/safe-finetuning-round5/runs.csv Default-fromCPQ Probe-antiWindupCPQ \
    > docs/results/safe-finetuning-starts/targets.md
fi
if [ "${round7:-0}" = 1 ]; then
  # Round 7's probes against the default, its scratch twin and the starts, seeds 0-2: the actor learning-rate ramp ('Probe-actorRamp'), the
  # cost guard without ('Probe-costGuard') and with the controller charge ('Probe-costGuardCharged').
  "${marvel[@]}" report runs/safe-finetuning-v3/*_{Probe-fresh+sp05,Scratch-setPoint05,Probe-actorRamp,Probe-costGuard,Probe-costGuardCharged,Probe-antiWindup}_cost20_seed[0-2] \
    runs/safe-finetuning-v2/*_Offline-BEARLag_cost20_seed[0-2] --out docs/results/safe-finetuning-round7-probe
  # The default and scratch rows of seeds 0-2 come from round 5's table where this report lacks their folders (a run counts once).
  python3 experiments/safe-finetuning-targets.py --scratch Scratch-setPoint05 --seeds 0,1,2 \
    docs/results/safe-finetuning-round7-probe/runs.csv,docs/results/safe-finetuning-round5/runs.csv \
    Probe-fresh+sp05 Probe-actorRamp Probe-costGuardCharged Probe-antiWindup > docs/results/safe-finetuning-round7-probe/targets.md
fi
if [ "${round6:-0}" = 1 ]; then
  # Round 6's probes, seeds 0-4 where they exist: VPA at 0.5·κ with both aligned critics ('Ablation5-alignedCritics'), with the aligned cost
  # critic alone ('Probe-vpaCostCritic'), the actor learning-rate ramp ('Probe-actorRamp'), the measured critic check ('Probe-criticRule'),
  # beside the default, its scratch twin and the starts.
  "${marvel[@]}" report runs/safe-finetuning-v3/*_{Probe-fresh+sp05,Scratch-setPoint05,Ablation5-alignedCritics,Probe-vpaCostCritic,Probe-actorRamp,Probe-criticRule,Probe-startRule}_cost20_seed[0-4] \
    runs/safe-finetuning-v2/*_Offline-BEARLag_cost20_seed[0-4] --out docs/results/safe-finetuning-round6-probe
  python3 experiments/safe-finetuning-targets.py --scratch Scratch-setPoint05 docs/results/safe-finetuning-round6-probe/runs.csv \
    Probe-fresh+sp05 Probe-vpaCostCritic > docs/results/safe-finetuning-round6-probe/targets.md
  # The start rule read off the two rows it chooses between (exact, see the script), and its targets.
  python3 experiments/safe-finetuning-start-rule-compose.py > docs/results/safe-finetuning-round6-probe/start-rule-composed.csv
  python3 experiments/safe-finetuning-targets.py --scratch Scratch-setPoint05 docs/results/safe-finetuning-round6-probe/start-rule-composed.csv \
    Composed-startRule Probe-fresh+sp05 > docs/results/safe-finetuning-round6-probe/start-rule-targets.md
  # The start rule at κ = 10 and 40 beside the default there and the starts (docs/results/safe-finetuning-round6-kappa/).
  "${marvel[@]}" report runs/safe-finetuning-v3/{BallCircle,CarRun}_{Probe-fresh+sp05,Probe-startRule}_cost{10,40}_seed[0-2] \
    runs/safe-finetuning-v2/{BallCircle,CarRun}_Offline-BEARLag_cost{10,40}_seed[0-2] --out docs/results/safe-finetuning-round6-kappa
  python3 experiments/safe-finetuning-targets.py docs/results/safe-finetuning-round6-kappa/runs.csv Probe-fresh+sp05 Probe-startRule \
    > docs/results/safe-finetuning-round6-kappa/targets.md
fi
if [ "${paper:-0}" = 1 ]; then
  # The issue's rows from the CPQ starts, seeds 0-4: Marvel's paper recipe, the same without alignment, the default, and the starts
  # (docs/results/safe-finetuning-paper/); targets against round 5's scratch twin (seeds 0-4).
  "${marvel[@]}" report runs/safe-finetuning-v3/*_{Paper-Marvel,WarmStart-noVPA,Default-fromCPQ}_cost20_seed[0-4] \
    runs/safe-finetuning-v2/*_Offline-CPQ_cost20_seed[0-4] --out docs/results/safe-finetuning-paper
  python3 experiments/safe-finetuning-targets.py --scratch Scratch-setPoint05 --start Offline-CPQ \
    docs/results/safe-finetuning-paper/runs.csv,docs/results/safe-finetuning-round5/runs.csv Default-fromCPQ Paper-Marvel WarmStart-noVPA \
    > docs/results/safe-finetuning-paper/targets.md
fi
if [ "${round8:-0}" = 1 ]; then
  # Round 8's probe against the default, its scratch twin and the BEAR-Lag starts, seeds 0-2 (the default and scratch rows come from
  # round 5's table where this report lacks their folders).
  "${marvel[@]}" report runs/safe-finetuning-v3/*_{Probe-fresh+sp05,Scratch-setPoint05,Probe-costNeutral}_cost20_seed[0-4] \
    runs/safe-finetuning-v2/*_Offline-BEARLag_cost20_seed[0-4] --out docs/results/safe-finetuning-round8-probe
  python3 experiments/safe-finetuning-targets.py --scratch Scratch-setPoint05 --seeds 0,1,2 \
    docs/results/safe-finetuning-round8-probe/runs.csv,docs/results/safe-finetuning-round5/runs.csv \
    Probe-fresh+sp05 Probe-costNeutral > docs/results/safe-finetuning-round8-probe/targets.md
fi
if [ "${ds1:-0}" = 1 ]; then
  # The default on dataset seed 1, seeds 0-1, beside its starts (docs/results/safe-finetuning-ds1/); targets against round 5's scratch twin
  # (seeds 0-1; the scratch row uses no offline data). The ds1 report comes first so that its start folders win over round 5's same names.
  "${marvel[@]}" report runs/safe-finetuning-ds1/*_Default-datasetSeed1_cost20_seed[0-1] runs/safe-finetuning-ds1-offline/*_Offline-BEARLag_cost20_seed[0-1] \
    --out docs/results/safe-finetuning-ds1
  python3 experiments/safe-finetuning-targets.py --scratch Scratch-setPoint05 --seeds 0,1 \
    docs/results/safe-finetuning-ds1/runs.csv,docs/results/safe-finetuning-round5/runs.csv Default-datasetSeed1 > docs/results/safe-finetuning-ds1/targets.md
fi
if [ "${frontier:-0}" = 1 ]; then
  # The default from the frontier-data starts, seeds 0-4, beside those starts (docs/results/safe-finetuning-frontier/); targets against
  # round 5's scratch twin (seeds 0-4; it uses no offline data, so the data change does not touch it).
  "${marvel[@]}" report runs/safe-finetuning-frontier/*_{Default-frontier,Offline-BEARLag}_cost20_seed[0-4] --out docs/results/safe-finetuning-frontier
  python3 experiments/safe-finetuning-targets.py --scratch Scratch-setPoint05 \
    docs/results/safe-finetuning-frontier/runs.csv,docs/results/safe-finetuning-round5/runs.csv Default-frontier \
    > docs/results/safe-finetuning-frontier/targets.md
  # The same at κ = 10 (seeds 0-2; no scratch row at this limit).
  "${marvel[@]}" report runs/safe-finetuning-frontier/*_{Default-frontier,Offline-BEARLag}_cost10_seed[0-2] --out docs/results/safe-finetuning-frontier-kappa10
  python3 experiments/safe-finetuning-targets.py docs/results/safe-finetuning-frontier-kappa10/runs.csv Default-frontier \
    > docs/results/safe-finetuning-frontier-kappa10/targets.md
fi
