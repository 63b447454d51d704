#!/usr/bin/env bash
# Refreshes the public API files (PublicAPI.Shipped.txt / PublicAPI.Unshipped.txt) of every packable project that
# tracks its API (Microsoft.CodeAnalysis.PublicApiAnalyzers). Idempotent: run it as often as you like.
#
#   eng/update-public-api.sh                      add new public API (RS0016) to PublicAPI.Unshipped.txt and drop
#                                                 Unshipped entries that no longer exist (RS0017)
#   eng/update-public-api.sh --allow-breaking     also accept removing/changing *shipped* API: the old entry is marked
#                                                 "*REMOVED*" in PublicAPI.Unshipped.txt (a breaking change)
#   eng/update-public-api.sh --ship               release step: fold PublicAPI.Unshipped.txt into PublicAPI.Shipped.txt
#   eng/update-public-api.sh [options] path/to/Project.csproj ...   only these projects
#
# How: build each project with warnings not treated as errors, read the analyzer's RS0016/RS0017 diagnostics from an
# MSBuild file log, and rewrite the files sorted (ordinal) with the "#nullable enable" header. Then build again to check
# that no RS0016/RS0017 is left. See docs/contributing.md.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export LC_ALL=C

mode=update
allow_breaking=false
projects=()
for arg in "$@"; do
  case "$arg" in
    --ship) mode=ship ;;
    --allow-breaking) allow_breaking=true ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    -*) echo "update-public-api: unknown option '$arg' (see --help)" >&2; exit 2 ;;
    *) projects+=("$arg") ;;
  esac
done

header='#nullable enable'
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Every project under src/ whose evaluation says it tracks its public API (eng/Packaging.targets sets
# MarvelTrackPublicApi for packable projects).
if [ ${#projects[@]} -eq 0 ]; then
  while IFS= read -r p; do
    track=$(dotnet msbuild "$p" -nologo -getProperty:MarvelTrackPublicApi 2>/dev/null | tr -d '[:space:]')
    [ "$track" = "true" ] && projects+=("$p")
  done < <(find src tests/Marvel.Testing -name '*.csproj' | sort)
fi
if [ ${#projects[@]} -eq 0 ]; then
  echo "update-public-api: no project tracks its public API (none under src/ has MarvelTrackPublicApi=true)." >&2
  exit 1
fi

# Writes file $1 from the entry lines on stdin: header first, then the entries sorted and unique, no blank lines.
write_api_file() {
  local file=$1 tmp
  tmp=$(mktemp)
  { echo "$header"; grep -v -x -e "$header" -e '' | sort -u; } > "$tmp" || true
  mv "$tmp" "$file"
}

# Entry lines of a public API file: no header, no blank lines, and no git conflict markers, so a file with a
# conflicted merge can be fixed by running this script (the entries are re-derived from the code).
entries() {
  [ -f "$1" ] || return 0
  tr -d '\r' < "$1" | grep -v -x -e "$header" -e '' | grep -v -E '^(<<<<<<<|=======|>>>>>>>|\|\|\|\|\|\|\|)' || true
}

# Builds project $1 with warnings left as warnings; writes the RS00xx public API warnings of that project to $2.
collect_diagnostics() {
  local proj=$1 out=$2 full log
  full=$(cd "$(dirname "$proj")" && pwd)/$(basename "$proj")
  log="$work/build.log"
  # Touching an AdditionalFile makes the compiler run again even when nothing else changed.
  touch "$(dirname "$proj")/PublicAPI.Unshipped.txt"
  if ! dotnet build "$proj" -c Release -nologo -v:q -clp:NoSummary -clp:ErrorsOnly \
      -p:TreatWarningsAsErrors=false -p:WarningsAsErrors= -p:ContinuousIntegrationBuild=false \
      -fl "-flp:logfile=$log;warningsonly;verbosity=quiet" >"$work/console.log" 2>&1; then
    echo "update-public-api: $proj does not build, so its public API cannot be read. Errors:" >&2
    grep -E ": error " "$work/console.log" | sort -u | head -40 >&2
    exit 1
  fi
  # Only this project's diagnostics (MSBuild appends " [<project path>]" to each line).
  grep -F "[$full]" "$log" | grep -E ": warning RS00(16|17|24|25|36|37|41|48|50): " | sort -u > "$out" || true
}

update_project() {
  local proj=$1 dir shipped unshipped pass diag added removed_unshipped removed_shipped other
  dir=$(dirname "$proj")
  shipped="$dir/PublicAPI.Shipped.txt"
  unshipped="$dir/PublicAPI.Unshipped.txt"
  # Normalise both files first (header, order, duplicates), creating them when missing.
  entries "$shipped" | write_api_file "$shipped"
  entries "$unshipped" | write_api_file "$unshipped"

  for pass in 1 2 3; do
    diag="$work/diag.txt"
    collect_diagnostics "$proj" "$diag"
    # RS0016: "Symbol '<entry>' is not part of the declared public API"
    added=$(sed -n -E "s/.*: warning RS0016: Symbol '(.*)' is not part of the declared public API.*/\1/p" "$diag" | sort -u)
    # RS0017: "Symbol '<entry>' is part of the declared API, but is either not public or could not be found",
    # located in the public API file that holds the entry.
    removed_unshipped=$(grep -E "PublicAPI\.Unshipped\.txt\([0-9,]+\): warning RS0017" "$diag" \
      | sed -n -E "s/.*: warning RS0017: Symbol '(.*)' is part of the declared API, but is either not public or could not be found.*/\1/p" | sort -u || true)
    removed_shipped=$(grep -E "PublicAPI\.Shipped\.txt\([0-9,]+\): warning RS0017" "$diag" \
      | sed -n -E "s/.*: warning RS0017: Symbol '(.*)' is part of the declared API, but is either not public or could not be found.*/\1/p" | sort -u || true)
    other=$(grep -v -E ": warning RS001[67]: " "$diag" || true)

    if [ -z "$added$removed_unshipped$removed_shipped" ]; then
      if [ -n "$other" ]; then
        echo "update-public-api: $proj has public API diagnostics this script does not fix:" >&2
        echo "$other" | sed -E 's/ \(https:[^)]*\)//; s/ \[[^]]*\]$//' >&2
        exit 1
      fi
      echo "update-public-api: $proj: public API files are up to date ($(entries "$shipped" | wc -l) shipped, $(entries "$unshipped" | wc -l) unshipped)."
      return 0
    fi
    if [ "$pass" -eq 3 ]; then
      echo "update-public-api: $proj: diagnostics remain after two rounds of fixes:" >&2
      sed -E 's/ \(https:[^)]*\)//; s/ \[[^]]*\]$//' "$diag" | head -40 >&2
      exit 1
    fi

    if [ -n "$removed_shipped" ] && [ "$allow_breaking" != true ]; then
      echo "update-public-api: $proj: these SHIPPED entries no longer exist (a breaking change for users of a released version):" >&2
      echo "$removed_shipped" | sed 's/^/  /' >&2
      echo "Restore them, or if the break is intended, rerun with --allow-breaking (marks them *REMOVED* in PublicAPI.Unshipped.txt)." >&2
      exit 1
    fi

    local nadd nrem nbreak
    nadd=$(printf '%s' "$added" | grep -c . || true)
    nrem=$(printf '%s' "$removed_unshipped" | grep -c . || true)
    nbreak=$(printf '%s' "$removed_shipped" | grep -c . || true)
    {
      entries "$unshipped" | { if [ -n "$removed_unshipped" ]; then grep -v -x -F -f <(echo "$removed_unshipped") || true; else cat; fi; }
      [ -n "$added" ] && echo "$added"
      [ -n "$removed_shipped" ] && echo "$removed_shipped" | sed 's/^/*REMOVED*/'
      true
    } | write_api_file "$unshipped"
    echo "update-public-api: $proj: +$nadd unshipped, -$nrem unshipped, $nbreak shipped marked *REMOVED*."
  done
}

ship_project() {
  local proj=$1 dir shipped unshipped removed
  dir=$(dirname "$proj")
  shipped="$dir/PublicAPI.Shipped.txt"
  unshipped="$dir/PublicAPI.Unshipped.txt"
  removed=$(entries "$unshipped" | sed -n 's/^\*REMOVED\*//p')
  {
    entries "$shipped" | { if [ -n "$removed" ]; then grep -v -x -F -f <(echo "$removed") || true; else cat; fi; }
    entries "$unshipped" | grep -v '^\*REMOVED\*' || true
  } | write_api_file "$shipped"
  : | write_api_file "$unshipped"
  echo "update-public-api: $proj: PublicAPI.Unshipped.txt folded into PublicAPI.Shipped.txt ($(entries "$shipped" | wc -l) entries)."
}

for proj in "${projects[@]}"; do
  [ -f "$proj" ] || { echo "update-public-api: no such project file: $proj" >&2; exit 2; }
  if [ "$mode" = ship ]; then ship_project "$proj"; else update_project "$proj"; fi
done
