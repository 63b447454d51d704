#!/usr/bin/env bash
# Builds the solution, runs every test project and the package smoke test (eng/package-smoke.sh); prints one
# closing line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
dotnet build Marvel.Core.sln -c Release -nologo -v q 2>&1 | tee "$log" | grep -E "error|Warn|Build succeeded" | sort -u
if [ "${PIPESTATUS[0]}" -ne 0 ]; then
  echo "Build failed."
  echo "0 passed, 1 failed"
  exit 1
fi
dotnet test Marvel.Core.sln -c Release --no-build -nologo "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
# Sum the per-assembly summaries: "Passed!  - Failed:     0, Passed:    73, Skipped: ..."
read -r passed failed < <(grep -E "^(Passed|Failed)! +- Failed:" "$log" | sed -E 's/.*Failed: *([0-9]+), Passed: *([0-9]+).*/\2 \1/' | awk '{p+=$1; f+=$2} END {print p+0, f+0}')
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
# The package proof: pack into a local folder feed, check the packages, build and run a consumer against them.
# Each of its checks counts as one test; its last line is "package smoke: N checks passed, N failed".
bash eng/package-smoke.sh --no-build 2>&1 | tee "$log"
smoke_rc=${PIPESTATUS[0]}
read -r smoke_passed smoke_failed < <(sed -n -E 's/^package smoke: ([0-9]+) checks passed, ([0-9]+) failed$/\1 \2/p' "$log" | tail -n 1)
smoke_passed=${smoke_passed:-0}; smoke_failed=${smoke_failed:-0}
if [ "$smoke_rc" -ne 0 ] && [ "$smoke_failed" -eq 0 ]; then smoke_failed=1; fi
passed=$((passed + smoke_passed)); failed=$((failed + smoke_failed))
if [ "$smoke_rc" -ne 0 ] && [ "$rc" -eq 0 ]; then rc=$smoke_rc; fi
rm -f "$log"
echo "${passed} passed, ${failed} failed"
exit "$rc"
