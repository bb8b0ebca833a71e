#!/usr/bin/env bash
# Makes sure this machine can give Dawn-for-Node a WebGPU adapter.
# With no GPU, that adapter is Mesa's lavapipe (software Vulkan). Bookworm's own Mesa 22.3 is refused
# by Dawn, so the driver comes from bookworm-backports. Installs only when run as root on Debian and
# when no working lavapipe ICD is present; otherwise it says exactly what to install.
set -euo pipefail

icd_present() {
  # NOTE: not `grep -q`: it exits at the first match, ldconfig then dies of SIGPIPE, and pipefail reads that
  # as "missing" (which made the script reinstall Mesa now and then).
  ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1 && ldconfig -p | grep 'libvulkan\.so\.1' >/dev/null
}

mesa_recent_enough() {
  # Dawn needs Mesa >= 23 (shaderUniform*ArrayDynamicIndexing); backports ships 25.
  local v
  v=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)
  [ -n "$v" ] && dpkg --compare-versions "$v" ge 23
}

if icd_present && mesa_recent_enough; then
  echo "setup-webgpu: lavapipe Vulkan driver present ($(dpkg-query -W -f='${Version}' mesa-vulkan-drivers))"
  exit 0
fi

if [ "$(id -u)" != 0 ] || [ ! -f /etc/debian_version ]; then
  cat >&2 <<'MSG'
setup-webgpu: no usable software Vulkan driver (Mesa lavapipe >= 23) was found, and this script can
install one only as root on Debian. Install it yourself, e.g. on Debian 12:
  enable bookworm-backports, then: apt-get install -t bookworm-backports libvulkan1 mesa-vulkan-drivers
or on other distributions: the packages providing libvulkan.so.1 and Mesa's lavapipe (lvp_icd.*.json).
A real GPU with a Vulkan driver works too.
MSG
  exit 1
fi

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
icd_present || { echo "setup-webgpu: installed Mesa but found no lavapipe ICD" >&2; exit 1; }
echo "setup-webgpu: installed lavapipe $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers)"
