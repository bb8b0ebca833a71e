#!/usr/bin/env bash
# Makes sure Debian's headless Chromium is here for the end-to-end tests and the browser benchmark.
# Playwright drives it through playwright-core; a downloaded browser build is never used (and could not be
# fetched on these machines). Installs only as root on Debian; otherwise says what to install.
set -euo pipefail

if [ -n "${DEADUNITS_CHROMIUM:-}" ] && [ -x "${DEADUNITS_CHROMIUM}" ]; then
  echo "setup-chromium: using DEADUNITS_CHROMIUM=${DEADUNITS_CHROMIUM}"
  exit 0
fi
if [ -x /usr/bin/chromium ]; then
  echo "setup-chromium: $(/usr/bin/chromium --version 2>/dev/null || echo chromium) present"
  exit 0
fi

if [ "$(id -u)" != 0 ] || [ ! -f /etc/debian_version ]; then
  cat >&2 <<'MSG'
setup-chromium: /usr/bin/chromium is missing, and this script can install it only as root on Debian.
Install it yourself (Debian/Ubuntu: apt-get install chromium), or point DEADUNITS_CHROMIUM at any
Chromium/Chrome binary with WebGPU (the tests pass --enable-unsafe-webgpu).
MSG
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium >/dev/null
echo "setup-chromium: installed $(/usr/bin/chromium --version 2>/dev/null)"
