#!/usr/bin/env bash
# Installs what the interoperability tests run in Python: NumPy (they write .npy files of every dtype the
# loader reads) and PyTorch (they load `deadunits export --torch` into nn.Sequential and write safetensors
# models for --init-from). Debian's own packages (bookworm: NumPy 1.24, PyTorch 1.13, CPU only), installed only
# as root on Debian and only when /usr/bin/python3 lacks them; elsewhere it says what to install.
set -euo pipefail

have() { /usr/bin/python3 -c "import $1" >/dev/null 2>&1; }

if have numpy && have torch; then
  echo "setup-python: numpy $(/usr/bin/python3 -c 'import numpy; print(numpy.__version__)'), torch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)')"
  exit 0
fi

if [ "$(id -u)" != 0 ] || [ ! -f /etc/debian_version ]; then
  cat >&2 <<'MSG'
setup-python: the Python interoperability tests need NumPy and PyTorch for /usr/bin/python3 (or the python3
named by DEADUNITS_PYTHON). On Debian/Ubuntu: apt-get install python3-numpy python3-torch; elsewhere:
pip install numpy torch. This script installs them only as root on Debian.
MSG
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends python3-numpy python3-torch >/dev/null
have numpy && have torch || { echo "setup-python: installed python3-numpy and python3-torch, but /usr/bin/python3 cannot import them" >&2; exit 1; }
echo "setup-python: installed numpy $(/usr/bin/python3 -c 'import numpy; print(numpy.__version__)'), torch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)')"
