#!/usr/bin/env bash
# Makes sure Dawn-for-Node has a WebGPU adapter, and never stands in the way of a machine that already has one.
#  1. Ask Dawn (scripts/webgpu-adapter.mjs, once `npm ci` has run): an adapter found (Metal on macOS, D3D12 on
#     Windows, Vulkan on Linux with a GPU, or lavapipe) means there is nothing to do.
#  2. None found, on Debian as root: install Mesa's lavapipe (software Vulkan). Bookworm's own Mesa 22.3 is refused
#     by Dawn, so the driver comes from bookworm-backports.
#  3. Otherwise: say what is missing for this system, and fail.
# Before `npm ci` Dawn cannot be asked: then an installed Vulkan driver (Linux) counts, and on macOS and Windows
# the check is left to the first run.
set -euo pipefail
cd "$(dirname "$0")/.."

ask_dawn() {
  # Exit status: 0 adapter (printed), 1 none, 2 Dawn not installed yet.
  local rc=0
  adapter=$(node scripts/webgpu-adapter.mjs 2>/dev/null) || rc=$?
  return $rc
}

vulkan_icd_present() {
  # NOTE: no `grep -q` under pipefail: it exits at the first match, ldconfig dies of SIGPIPE, and pipefail reads
  # that as "missing".
  ls /usr/share/vulkan/icd.d/*.json /etc/vulkan/icd.d/*.json >/dev/null 2>&1 && ldconfig -p 2>/dev/null | grep 'libvulkan\.so\.1' >/dev/null
}

lavapipe_recent_enough() {
  # Dawn needs Mesa >= 23 (shaderUniform*ArrayDynamicIndexing); backports ships 25.
  local v
  v=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)
  ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1 && [ -n "$v" ] && dpkg --compare-versions "$v" ge 23
}

adapter=""
status=0
ask_dawn || status=$?
if [ $status = 0 ]; then
  echo "setup-webgpu: Dawn finds a WebGPU adapter: $adapter"
  exit 0
fi

os=$(uname -s)
if [ $status = 2 ]; then
  # Dawn is not installed yet (npm ci comes later): judge by the drivers.
  case "$os" in
    Darwin | MINGW* | MSYS* | CYGWIN*)
      echo "setup-webgpu: $os: Dawn uses Metal / D3D12; it will be asked for an adapter after npm ci"
      exit 0
      ;;
  esac
  if lavapipe_recent_enough || { vulkan_icd_present && ! ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1; }; then
    echo "setup-webgpu: a Vulkan driver is installed; Dawn will be asked for an adapter after npm ci"
    exit 0
  fi
fi

if [ "$os" = Linux ] && [ "$(id -u)" = 0 ] && [ -f /etc/debian_version ]; then
  if ! lavapipe_recent_enough; then
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
    if ! grep -rqs "${codename}-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
      cat > /etc/apt/sources.list.d/backports.sources <<SRC
Types: deb
URIs: http://deb.debian.org/debian
Suites: ${codename}-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq -t "${codename}-backports" libvulkan1 mesa-vulkan-drivers >/dev/null
    lavapipe_recent_enough || { echo "setup-webgpu: installed Mesa but found no lavapipe ICD" >&2; exit 1; }
    echo "setup-webgpu: installed lavapipe $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers)"
  fi
  status=0
  ask_dawn || status=$?
  if [ $status = 0 ]; then
    echo "setup-webgpu: Dawn finds a WebGPU adapter: $adapter"
    exit 0
  fi
  if [ $status = 2 ]; then
    echo "setup-webgpu: lavapipe $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers) present; Dawn will be asked after npm ci"
    exit 0
  fi
  echo "setup-webgpu: lavapipe is installed, but Dawn still finds no adapter (try DEADUNITS_DAWN=backend=vulkan,adapter=llvmpipe)" >&2
  exit 1
fi

case "$os" in
  Darwin) hint="macOS: Dawn needs Metal (macOS 11 or later); check that this Mac's GPU supports Metal." ;;
  MINGW* | MSYS* | CYGWIN*) hint="Windows: Dawn needs a Direct3D 12 driver (Windows 10 or later); update the GPU driver." ;;
  *)
    hint="Linux: Dawn needs a Vulkan driver: your GPU's, or Mesa's software lavapipe >= 23 (Debian 12: enable
bookworm-backports, then apt-get install -t bookworm-backports libvulkan1 mesa-vulkan-drivers; other
distributions: the packages that provide libvulkan.so.1 and lvp_icd.*.json). This script installs lavapipe
itself only as root on Debian."
    ;;
esac
echo "setup-webgpu: Dawn finds no WebGPU adapter on this machine." >&2
echo "$hint" >&2
exit 1
