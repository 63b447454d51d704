#!/usr/bin/env bash
# Measures what pinning libtorch's and MKL's code paths costs and changes (docs/algorithms/marvel-pipeline.md, "Reproducing a run on
# another CPU kind"): a short recipe run (experiments/cpu-pinning.json: BEAR-Lag 1 000 updates, 4 online iterations) under each setting,
# in interleaved rounds; prints round, setting, user and system CPU seconds, wall seconds and the final mean return.
# Usage: bash experiments/cpu-pinning.sh [rounds=3] [out=runs/cpu-pinning]
set -uo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-3}"; out="${2:-runs/cpu-pinning}"
dotnet build src/Marvel.Cli -c Release -warnaserror -nologo -v quiet || exit 1
marvel=(dotnet "$(find src/Marvel.Cli/bin/Release -name marvel.dll -path '*linux-x64/marvel.dll' | head -1)")
mkdir -p "$out"
for round in $(seq "$rounds"); do
  for setting in unset avx2 default avx2+mkl-avx2 avx2+mkl-compatible; do
    case $setting in
      unset) envs=() ;;
      avx2) envs=(ATEN_CPU_CAPABILITY=avx2) ;;
      default) envs=(ATEN_CPU_CAPABILITY=default) ;;
      avx2+mkl-avx2) envs=(ATEN_CPU_CAPABILITY=avx2 MKL_CBWR=AVX2) ;;
      avx2+mkl-compatible) envs=(ATEN_CPU_CAPABILITY=avx2 MKL_CBWR=COMPATIBLE) ;;
    esac
    dir="$out/r$round-$setting"; rm -rf "$dir"
    /usr/bin/time -f "%U %S %e" -o "$dir.time" env "${envs[@]}" "${marvel[@]}" run --config experiments/cpu-pinning.json --run-dir "$dir" --quiet > "$dir.log" 2>&1
    python3 -c "import json,sys; t=open('$dir.time').read().split(); r=json.load(open('$dir/result.json')); print('$round', '$setting', 'user', t[0], 'sys', t[1], 'wall', t[2], 'final_mean_return', repr(r['final_mean_return']))"
  done
done
