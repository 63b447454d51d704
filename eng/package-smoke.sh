#!/usr/bin/env bash
# Proof that `dotnet add package Marvel.Core` works: packs every packable project at a unique prerelease version into
# a temporary folder feed, checks each package's contents, then copies tests/PackageConsumer to a temporary folder
# outside the repository, adds Marvel.Core (from the feed) and TorchSharp-cpu with `dotnet add package`, builds it and
# runs it. Part of eng/test.sh; last line: "package smoke: N checks passed, N failed".
#   eng/package-smoke.sh [--no-build]     --no-build packs the existing Release build (eng/test.sh builds first)
# MARVEL_SMOKE_KEEP=1 keeps the temporary folder for inspection.
set -uo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
# shellcheck source=eng/local-feed.sh
source eng/local-feed.sh

pack_args=()
for arg in "$@"; do
  case "$arg" in
    --no-build) pack_args+=(--no-build) ;;
    *) echo "package-smoke: unknown argument '$arg'" >&2; exit 2 ;;
  esac
done

work=$(mktemp -d "${TMPDIR:-/tmp}/marvel-package-smoke.XXXXXX")
feed="$work/feed"
consumer="$work/consumer"
version=$(feed_unique_version) || exit 1
torch_version=$(sed -n -E 's:.*<PackageVersion Include="TorchSharp-cpu" Version="([^"]+)".*:\1:p' Directory.Packages.props)
packed_ids=()
finish() {
  local id
  for id in "${packed_ids[@]}"; do feed_forget_version "$id" "$version"; done
  if [ "${MARVEL_SMOKE_KEEP:-0}" = 1 ]; then echo "package smoke: kept $work"; else rm -rf "$work"; fi
  echo "package smoke: ${FEED_PASSED} checks passed, ${FEED_FAILED} failed"
  [ "$FEED_FAILED" -eq 0 ]
  exit $?
}
step_log="$work/step.log"
# run_step "description" command...: a check whose output is shown only when it fails.
run_step() {
  local what=$1; shift
  if "$@" >"$step_log" 2>&1; then
    feed_pass "$what"
  else
    feed_fail "$what (exit $?); its output:"
    grep -E "error|FAIL|rror:" "$step_log" | sort -u | head -30 | sed 's/^/    /'
    tail -15 "$step_log" | sed 's/^/    /'
  fi
}

echo "package smoke: version $version, feed $feed"

# 1. Pack every packable project into the folder feed (package validation runs as part of pack).
mapfile -t projects < <(feed_packable_projects)
if [ ${#projects[@]} -eq 0 ]; then feed_fail "found packable projects under src/"; finish; fi
for project in "${projects[@]}"; do
  run_step "dotnet pack $project (with package validation)" feed_pack "$feed" "$version" "$project" "${pack_args[@]}"
done

# 2. What each package carries.
for nupkg in "$feed"/*.nupkg; do
  [ -e "$nupkg" ] || continue
  case "$nupkg" in *.symbols.nupkg) continue ;; esac
  packed_ids+=("$(feed_package_id "$nupkg")")
  feed_check_package "$nupkg"
done
core="$feed/Marvel.Core.$version.nupkg"
feed_check "Marvel.Core.$version.nupkg depends on the managed TorchSharp $torch_version" \
  bash -c '[ -f "$1" ] && unzip -p "$1" Marvel.Core.nuspec | grep -q "<dependency id=\"TorchSharp\" version=\"$2\""' _ "$core" "$torch_version"
[ -f "$core" ] || finish

# 3. A fresh project outside the repository consumes the package with the README's install commands, run literally: the
#    fenced block between "<!-- package-smoke: begin -->" and "<!-- package-smoke: end -->" in README.md. The one change is the
#    value of MARVEL (the user's checkout), which here points at a folder whose artifacts/packages is the feed packed above.
mkdir -p "$consumer" "$work/marvel/artifacts"
cp tests/PackageConsumer/PackageConsumer.csproj tests/PackageConsumer/*.cs "$consumer/"
ln -s "$feed" "$work/marvel/artifacts/packages"
install="$work/readme-install.sh"
sed -n '/<!-- package-smoke: begin -->/,/<!-- package-smoke: end -->/p' README.md | grep -v -e '^<!-- package-smoke' -e '^```' \
  | sed "s#^MARVEL=.*#MARVEL='$work/marvel'#" > "$install"
feed_check "README.md has the install block (MARVEL=, nuget.config, dotnet add package Marvel.Core)" \
  bash -c 'grep -q "^MARVEL=" "$1" && grep -q "nuget.config" "$1" && grep -q "dotnet add package Marvel.Core" "$1"' _ "$install"
cd "$consumer" || finish
run_step "README install commands run literally in a fresh project (nuget.config, dotnet add package Marvel.Core --prerelease, TorchSharp-cpu)" \
  bash -euo pipefail "$install"
feed_check "the consumer restored Marvel.Core $version from the package, not a project" \
  grep -q "\"Marvel.Core/$version\": {" obj/project.assets.json
run_step "the consumer builds against the package" dotnet build -c Release -nologo -v:q
if [ "$FEED_FAILED" -eq 0 ]; then
  output=$(timeout 300 dotnet run -c Release --no-build 2>&1)
  rc=$?
  echo "$output" | sed 's/^/    consumer> /'
  feed_check "the consumer runs: BallCircle episode, aPID step, SAC-Lag iteration, evaluation (exit $rc)" \
    bash -c '[ "$1" -eq 0 ] && [ "$(tail -n 1 <<<"$2")" = "package consumer: OK" ]' _ "$rc" "$output"
fi
cd - >/dev/null || true
finish
