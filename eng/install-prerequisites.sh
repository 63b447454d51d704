#!/usr/bin/env bash
# Installs the native prerequisites of Marvel.Core on Debian 12 (and newer), idempotently.
#
#  1. libstdc++ with GLIBCXX_3.4.32 (GCC 13+): TorchSharp 0.107.0's native shim needs it; Debian 12 ships
#     GCC 12's. Fix: add the Debian 13 "trixie" suite as a low-priority (100) apt source built from the
#     machine's existing Debian source, and install libstdc++6 from it with `-t trixie`.
#  2. Optional extras selected by arguments:
#       --hdf5-tools   python3-h5py and hdf5-tools (only needed to regenerate the independent HDF5 fixture)
#       --mujoco       libmujoco2.2.2 and libmujoco-dev (the MuJoCo velocity tasks)
#
# Does nothing when everything is present. Runs apt as root, or through sudo when not root.
set -euo pipefail

want_h5=0; want_mujoco=0
for arg in "$@"; do
  case "$arg" in
    --hdf5-tools) want_h5=1 ;;
    --mujoco) want_mujoco=1 ;;
    *) echo "install-prerequisites: unknown argument '$arg' (known: --hdf5-tools, --mujoco)" >&2; exit 2 ;;
  esac
done

log() { echo "[prerequisites] $*"; }

if [ "$(id -u)" -eq 0 ]; then SUDO=(); else
  if command -v sudo >/dev/null 2>&1; then SUDO=(sudo); else
    log "not root and no sudo: cannot install system packages"; SUDO=(false); fi
fi

libstdcxx_ok() {
  local lib
  for lib in /usr/lib/x86_64-linux-gnu/libstdc++.so.6 /usr/lib/aarch64-linux-gnu/libstdc++.so.6 /usr/lib64/libstdc++.so.6 /usr/lib/libstdc++.so.6; do
    if [ -e "$lib" ] && grep -aq 'GLIBCXX_3.4.32' "$lib"; then return 0; fi
  done
  return 1
}

apt_updated=0
apt_update() { if [ $apt_updated -eq 0 ]; then "${SUDO[@]}" apt-get update -qq; apt_updated=1; fi; }
apt_install() { apt_update; DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq "$@" >/dev/null; }
dpkg_has() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

if libstdcxx_ok; then
  log "libstdc++ provides GLIBCXX_3.4.32: ok"
else
  log "libstdc++ lacks GLIBCXX_3.4.32 (TorchSharp needs GCC 13+ runtime); installing it from Debian trixie"
  if ! command -v apt-get >/dev/null 2>&1; then
    log "no apt-get: install a libstdc++6 from GCC 13 or newer by hand"; exit 1
  fi
  src=/etc/apt/sources.list.d/debian.sources
  uri=""; keyring=""
  if [ -f "$src" ]; then
    # The first URIs/Signed-By of the main Debian stanza (not the security one).
    uri=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' "$src")
    keyring=$(awk '/^Signed-By:/ {print $2; exit}' "$src")
  fi
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(awk '$1=="deb" && $0 !~ /security/ { for (i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit} }' /etc/apt/sources.list)
  fi
  if [ -z "$uri" ]; then log "cannot find the machine's Debian apt source URI"; exit 1; fi
  [ -n "$keyring" ] || keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  tmp=$(mktemp)
  printf 'Types: deb\nURIs: %s\nSuites: trixie\nComponents: main\nSigned-By: %s\n' "$uri" "$keyring" > "$tmp"
  "${SUDO[@]}" install -m 0644 "$tmp" /etc/apt/sources.list.d/marvel-trixie.sources
  printf 'Package: *\nPin: release n=trixie\nPin-Priority: 100\n' > "$tmp"
  "${SUDO[@]}" install -m 0644 "$tmp" /etc/apt/preferences.d/marvel-trixie.pref
  rm -f "$tmp"
  apt_update
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq -t trixie libstdc++6 >/dev/null
  if libstdcxx_ok; then log "libstdc++ upgraded: ok"; else log "libstdc++ upgrade did not provide GLIBCXX_3.4.32"; exit 1; fi
fi

if [ $want_h5 -eq 1 ]; then
  if dpkg_has python3-h5py && dpkg_has hdf5-tools; then log "python3-h5py, hdf5-tools: ok"
  else log "installing python3-h5py hdf5-tools"; apt_install python3-h5py hdf5-tools; fi
fi
if [ $want_mujoco -eq 1 ]; then
  if dpkg_has libmujoco2.2.2 && dpkg_has libmujoco-dev; then log "libmujoco2.2.2: ok"
  else log "installing libmujoco2.2.2 libmujoco-dev"; apt_install libmujoco2.2.2 libmujoco-dev; fi
fi
