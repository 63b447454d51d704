#!/usr/bin/env bash
# Mutation testing (Stryker.NET 5.1.0, local tool in .config/dotnet-tools.json) over the members that hold losses, targets, masks,
# thresholds, controllers and Polyak averaging. Not part of CI; see docs/contributing.md, "Mutation testing".
#   eng/mutation-test.sh [group] [output-dir]     group: core (default) | controllers | alignment | all
# Only the named members are mutated (Stryker text spans computed here from the current source, so edits elsewhere in a file do not
# shift them); the tests are tests/Marvel.Core.MutationTests (the matching Marvel.Core.Tests files, compiled on their own).
set -euo pipefail
cd "$(dirname "$0")/.."
group="${1:-core}"
out="$(realpath -m "${2:-artifacts/mutation/$group}")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

# file (under src/Marvel.Core) : member names whose declarations and bodies are mutated ("*" = the whole file)
core=(
  "Algorithms/Shared/GradientStep.cs:*"
  "Abstractions/CostBudget.cs:*"
  "Algorithms/Online/SacLag/SacLagLearner.cs:ActorLoss"
  "Algorithms/Online/PpoLag/PpoLagLearner.cs:PolicyLoss"
  "Algorithms/Offline/Cpq/CpqLearner.cs:NextLogAlpha,RewardTarget,ActorLoss,GatedOodValue"
  "Algorithms/Offline/COptiDice/COptiDiceLearner.cs:F,FInverseDerivative,Advantage,LambdaLoss"
  "Algorithms/Shared/BatchPidLagrangian.cs:Control,Penalty"
  "Lagrange/PidLagrangeCore.cs:Step,WindowStatistics,Push,Project"
)
controllers=(
  "Lagrange/PidLagrangeController.cs:Update"
  "Lagrange/DualAscentController.cs:Update,Project"
  "Lagrange/AdaptivePidLagrangeController.cs:Update,ClipGain"
)
alignment=(
  "Alignment/ValuePreAligner.cs:Update,Include,Clamp"
)
case "$group" in
  core) targets=("${core[@]}") ;;
  controllers) targets=("${controllers[@]}") ;;
  alignment) targets=("${alignment[@]}") ;;
  all) targets=("${core[@]}" "${controllers[@]}" "${alignment[@]}") ;;
  *) echo "usage: eng/mutation-test.sh [core|controllers|alignment|all] [output-dir]" >&2; exit 2 ;;
esac

# Character spans {start..end} of each member: from its declaration line to the closing brace (block body) or the
# semicolon (expression body), found by counting brackets.
mutate_args=()
for target in "${targets[@]}"; do
  file="src/Marvel.Core/${target%%:*}"; members="${target#*:}"
  [ -f "$file" ] || { echo "no such file: $file" >&2; exit 1; }
  if [ "$members" = "*" ]; then mutate_args+=(--mutate "**/${target%%:*}"); continue; fi
  spans=$(python3 - "$file" "$members" <<'PY'
import re, sys
path, names = sys.argv[1], sys.argv[2].split(",")
text = open(path, encoding="utf-8-sig").read()
spans = []
for name in names:
    decl = re.compile(r"^[ \t]*(?:(?:public|private|internal|protected|static|override|sealed)\s+)+[\w<>\[\](), ?.]+?\s+" + re.escape(name) + r"\s*\(", re.M)
    m = decl.search(text)
    if not m:
        sys.exit(f"{path}: member '{name}' not found")
    start, i, depth = m.start(), m.end(), 1   # inside the parameter list
    while depth:                                # skip the parameters
        depth += {"(": 1, ")": -1}.get(text[i], 0); i += 1
    arrow = text.find("=>", i); brace = text.find("{", i); semi = text.find(";", i)
    if brace != -1 and (arrow == -1 or brace < arrow) and (semi == -1 or brace < semi):
        i, depth = brace + 1, 1
        while depth:
            depth += {"{": 1, "}": -1}.get(text[i], 0); i += 1
    else:
        depth = 0
        while not (text[i] == ";" and depth == 0):
            depth += {"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}.get(text[i], 0); i += 1
        i += 1
    spans.append(f"{{{start}..{i}}}")
print("".join(spans))
PY
)
  mutate_args+=(--mutate "**/${target%%:*}${spans}")
done

dotnet tool restore >/dev/null
echo "Stryker.NET on group '$group' -> $out"
printf '  %s\n' "${mutate_args[@]}" | paste - - | sed 's/^  --mutate\t//'
start=$(date +%s)
cd tests/Marvel.Core.MutationTests
dotnet stryker --project Marvel.Core.csproj --configuration Release --concurrency 1 --skip-version-check \
  --reporter ClearText --reporter Json --reporter Html --reporter Markdown --output "$out" "${mutate_args[@]}"
echo "mutation run '$group' took $(( $(date +%s) - start )) s; reports in $out/reports"
