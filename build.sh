#!/usr/bin/env bash
# Marvel.Core entry point. Every command first installs the native prerequisites (idempotent).
#   ./build.sh quickstart [args]   run the quickstart sample (the library's main job, end to end)
#   ./build.sh test                build and run the whole test suite; last line: "N passed, N failed"
#   ./build.sh bench [filter]      run the BenchmarkDotNet project (Release)
#   ./build.sh pack [args]         pack every packable project into artifacts/packages at a unique prerelease version
#                                  (MARVEL_PACK_VERSION=X.Y.Z for a release; args go to dotnet pack)
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

command -v dotnet >/dev/null 2>&1 || { echo "The .NET 10 SDK is required (dotnet not found on PATH)." >&2; exit 2; }
cmd="${1:-}"; shift || true

case "$cmd" in
  quickstart)
    bash eng/install-prerequisites.sh
    dotnet run -c Release --project samples/Marvel.Quickstart -- "$@"
    ;;
  test)
    bash eng/install-prerequisites.sh --hdf5-tools --mujoco
    bash eng/test.sh "$@"
    ;;
  bench)
    bash eng/install-prerequisites.sh --mujoco
    dotnet run -c Release --project benchmarks/Marvel.Benchmarks -- --filter "${1:-*}"
    ;;
  pack)
    bash eng/install-prerequisites.sh
    # Every packable project under src/ (libraries and .NET tools), each with its .snupkg; package validation runs in pack.
    # Each pack gets a version nobody has used (0.1.0-local.<UTC time>.<pid>) unless MARVEL_PACK_VERSION names one (a release),
    # so `dotnet add package Marvel.Core --prerelease` takes the newest pack and ~/.nuget/packages never serves a stale copy.
    source eng/local-feed.sh
    version=${MARVEL_PACK_VERSION:-$(feed_unique_version)}
    mapfile -t projects < <(feed_packable_projects)
    [ ${#projects[@]} -gt 0 ] || { echo "No packable project under src/." >&2; exit 1; }
    for project in "${projects[@]}"; do
      dotnet pack "$project" -c Release -nologo -o artifacts/packages -p:Version="$version" "$@"
    done
    ls -1 artifacts/packages
    echo "Packed version $version into $(pwd)/artifacts/packages"
    ;;
  *)
    echo "usage: ./build.sh quickstart|test|bench [filter]|pack" >&2
    exit 2
    ;;
esac
