#!/usr/bin/env bash
# Builds the solution and runs every test project; prints one closing line "N passed, N failed".
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
rm -f "$log"
echo "${passed} passed, ${failed} failed"
exit "$rc"
