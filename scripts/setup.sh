#!/usr/bin/env bash
# Sets up epicap on a fresh Debian machine: the system libraries Open3D and OpenCV need, a
# virtual environment in .venv, and the exact package versions of constraints.txt.
# Safe to run again: it only does what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

debs=(libusb-1.0-0 libvulkan1 mesa-vulkan-drivers libgl1 libegl1 libgl1-mesa-dri)
missing=()
for d in "${debs[@]}"; do
  dpkg -s "$d" >/dev/null 2>&1 || missing+=("$d")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing Debian packages: ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $($python --version)" >&2
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -c constraints.txt -e ".[test]"
