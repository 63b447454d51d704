# shellcheck shell=bash
# Helpers to pack this repository's NuGet packages into a local folder feed and consume them from a fresh project or
# as a .NET tool, the way a user would. Source it from a script run at the repository root:
#
#   source eng/local-feed.sh
#   projects=$(feed_packable_projects)               # every src/ project with IsPackable=true (libraries and tools)
#   version=$(feed_unique_version)                   # e.g. 0.1.0-local.20261125124501.4242: never in the package cache yet
#   feed_pack "$feed" "$version" src/X/X.csproj      # dotnet pack into the folder feed (extra args go to dotnet pack)
#   feed_nuget_config "$dir" "$feed"                 # nuget.config in $dir: the local feed plus the default sources
#   feed_check_package "$feed/X.$version.nupkg"      # README, license, XML docs, lib dll, symbols, no native deps
#   feed_install_tool "$feed" "$version" Id "$dir"   # dotnet tool install --tool-path "$dir" from the feed
#   feed_forget_version Id "$version"                # remove that version from the global package cache
#
# Checks print "PASS: ..." or "FAIL: ..." and count into FEED_PASSED / FEED_FAILED.

FEED_PASSED=${FEED_PASSED:-0}
FEED_FAILED=${FEED_FAILED:-0}

feed_pass() { echo "PASS: $*"; FEED_PASSED=$((FEED_PASSED + 1)); }
feed_fail() { echo "FAIL: $*"; FEED_FAILED=$((FEED_FAILED + 1)); }
feed_check() { # feed_check "description" command...
  local what=$1; shift
  if "$@"; then feed_pass "$what"; else feed_fail "$what"; fi
}

# Every project under src/ that packs (IsPackable=true after evaluation), one path a line, sorted.
feed_packable_projects() {
  local p packable
  while IFS= read -r p; do
    packable=$(dotnet msbuild "$p" -nologo -getProperty:IsPackable 2>/dev/null | tr -d '[:space:]')
    [ "$packable" = "true" ] && echo "$p"
  done < <(find src tests/Marvel.Testing -name '*.csproj' | LC_ALL=C sort)   # Marvel.Testing ships the conformance suite
}

# The release version from Directory.Build.props with a prerelease suffix unique to this run, so a package restored
# from the local feed can never be a stale copy of an earlier run sitting in ~/.nuget/packages.
feed_unique_version() {
  local prefix
  prefix=$(sed -n -E 's:.*<VersionPrefix>([^<]+)</VersionPrefix>.*:\1:p' Directory.Build.props | head -1)
  if [ -z "$prefix" ]; then echo "local-feed: no <VersionPrefix> in Directory.Build.props" >&2; return 1; fi
  echo "${prefix}-local.$(date -u +%Y%m%d%H%M%S).$$"
}

# feed_pack FEED VERSION PROJECT [dotnet pack args...]: Release pack of PROJECT at VERSION into FEED.
feed_pack() {
  local feed=$1 version=$2 project=$3; shift 3
  mkdir -p "$feed"
  dotnet pack "$project" -c Release -nologo -v:q -o "$feed" -p:Version="$version" "$@"
}

# feed_nuget_config DIR FEED: writes DIR/nuget.config that adds FEED and keeps the machine's default sources
# (no <clear/>), so the packages' own dependencies (TorchSharp, TorchSharp-cpu, ...) restore as usual.
feed_nuget_config() {
  local dir=$1 feed=$2
  mkdir -p "$dir"
  cat > "$dir/nuget.config" <<EOF
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="marvel-local-feed" value="$feed" />
  </packageSources>
  <config>
    <add key="signatureValidationMode" value="accept" />
  </config>
</configuration>
EOF
}

# feed_package_id NUPKG: the package id from the .nuspec inside.
feed_package_id() {
  unzip -p "$1" '*.nuspec' | sed -n -E 's:.*<id>([^<]+)</id>.*:\1:p' | head -1
}

# feed_check_package NUPKG: checks what every Marvel library package must carry. A .NET tool package (packageType
# DotnetTool) is checked for its readme, license and tool layout instead of lib/.
feed_check_package() {
  local nupkg=$1 name id listing nuspec deps snupkg
  name=$(basename "$nupkg")
  if [ ! -f "$nupkg" ]; then feed_fail "$name exists"; return; fi
  id=$(feed_package_id "$nupkg")
  listing=$(unzip -Z1 "$nupkg")
  nuspec=$(unzip -p "$nupkg" '*.nuspec')
  deps=$(echo "$nuspec" | sed -n -E 's:.*<dependency id="([^"]+)".*:\1:p')
  feed_check "$name: README.md at the package root and declared as its readme" \
    bash -c 'grep -qx "README.md" <<<"$1" && grep -q "<readme>README.md</readme>" <<<"$2"' _ "$listing" "$nuspec"
  feed_check "$name: MIT license expression" grep -q '<license type="expression">MIT</license>' <<<"$nuspec"
  feed_check "$name: repository commit recorded" grep -q '<repository type="git".* commit="[0-9a-f]\{40\}"' <<<"$nuspec"
  if grep -q 'packageType name="DotnetTool"' <<<"$nuspec"; then
    feed_check "$name: tool layout (tools/<framework>/<runtime or any>/DotnetToolSettings.xml)" grep -qE '^tools/[^/]+/[^/]+/DotnetToolSettings.xml$' <<<"$listing"
    return
  fi
  feed_check "$name: lib/net10.0/$id.dll" grep -qx "lib/net10.0/$id.dll" <<<"$listing"
  feed_check "$name: XML documentation lib/net10.0/$id.xml" grep -qx "lib/net10.0/$id.xml" <<<"$listing"
  snupkg="${nupkg%.nupkg}.snupkg"
  feed_check "$name: symbols package $(basename "$snupkg") with lib/net10.0/$id.pdb" \
    bash -c '[ -f "$1" ] && unzip -Z1 "$1" | grep -qx "lib/net10.0/$2.pdb"' _ "$snupkg" "$id"
  feed_check "$name: no native backend dependency (TorchSharp-cpu/-cuda, libtorch-*)" \
    bash -c '! grep -qiE "^(TorchSharp-|libtorch)" <<<"$1"' _ "$deps"
  # A package may carry its own natives (say MuJoCo's); libtorch is the application's choice, never bundled.
  feed_check "$name: no libtorch natives inside" bash -c '! grep -qiE "^runtimes/.*(libtorch|torch_cpu|torch_cuda|LibTorchSharp)" <<<"$1"' _ "$listing"
}

# feed_install_tool FEED VERSION PACKAGE_ID TOOL_PATH: installs a .NET tool package from FEED into TOOL_PATH
# (no global state), for a smoke test such as "$TOOL_PATH/marvel --help".
feed_install_tool() {
  local feed=$1 version=$2 id=$3 tool_path=$4 config_dir
  config_dir=$(mktemp -d)
  feed_nuget_config "$config_dir" "$feed"
  dotnet tool install "$id" --version "$version" --tool-path "$tool_path" --configfile "$config_dir/nuget.config"
  local rc=$?
  rm -rf "$config_dir"
  return $rc
}

# feed_forget_version PACKAGE_ID VERSION: deletes that one version from the global package cache (it is unique to a
# run, so nothing else uses it) to keep ~/.nuget/packages from filling with smoke-test copies.
feed_forget_version() {
  local id=$1 version=$2 root
  root=${NUGET_PACKAGES:-$(dotnet nuget locals global-packages --list 2>/dev/null | sed -n -E 's/^global-packages: *//p')}
  [ -n "$root" ] || return 0
  local dir="${root%/}/$(echo "$id" | tr '[:upper:]' '[:lower:]')/$(echo "$version" | tr '[:upper:]' '[:lower:]')"
  case "$version" in *-local.*) rm -rf "$dir" ;; esac
}
