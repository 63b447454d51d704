#!/usr/bin/env bash
# Runs eng/stress/Marvel.Stress repeatedly for a learner and counts crashes (docs/known-issues.md, "native crash").
#   eng/stress/stress.sh <learner> <minutes> [seconds per process = 60] [allocating threads = 4]
# Prints one line per process and a closing "learner: N runs, M crashes in X min". Collections are made frequent with
# DOTNET_GCgen0size=0x20000 (128 KiB gen-0 budget), as in the original reproducer.
set -uo pipefail
cd "$(dirname "$0")/../.."
learner="$1"; minutes="$2"; per="${3:-60}"; threads="${4:-4}"
dll=eng/stress/Marvel.Stress/bin/Release/net10.0/linux-x64/Marvel.Stress.dll
[ -f "$dll" ] || dotnet build eng/stress/Marvel.Stress -c Release -nologo -v q >/dev/null || exit 1
end=$(( $(date +%s) + minutes * 60 )); runs=0; crashes=0; start=$(date +%s)
while [ "$(date +%s)" -lt "$end" ]; do
  left=$(( end - $(date +%s) )); secs=$(( left < per ? left : per )); [ "$secs" -ge 5 ] || break
  out=$(DOTNET_GCgen0size=0x20000 dotnet "$dll" "$learner" "$secs" "$threads" 2>&1); rc=$?
  runs=$((runs + 1))
  if [ "$rc" -ne 0 ]; then crashes=$((crashes + 1)); echo "run $runs: exit $rc: $(echo "$out" | grep -m1 -E 'Exception|Scalar|error' | cut -c1-160)"; else echo "run $runs: $out"; fi
done
echo "$learner: $runs runs, $crashes crashes in $(( ($(date +%s) - start) / 60 )) min $(( ($(date +%s) - start) % 60 )) s"
