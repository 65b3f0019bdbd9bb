#!/usr/bin/env bash
# Set up everything alnumzoo needs on a fresh Debian machine: the Debian packages (fonts for the
# alnum52 renderer, from enough family groups for its three-way split; the real Fashion-MNIST
# files) and a virtual environment with the package and
# its dev extras. Safe to run again: it only installs what is missing.
#
# ALNUMZOO_VENV picks the environment (default: .venv in the repository).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${ALNUMZOO_VENV:-$repo/.venv}"
extras="${ALNUMZOO_EXTRAS:-dev}"

debs=(fonts-dejavu-core fonts-liberation fonts-urw-base35 dataset-fashion-mnist git)
missing=()
for p in "${debs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  echo "bootstrap: installing Debian packages: ${missing[*]}" >&2
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -x "$venv/bin/python" ]; then
  echo "bootstrap: creating virtual environment $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --upgrade pip
fi
# torch comes in through torchvision's requirement: never pin it (see DEVELOPERS.md).
"$venv/bin/pip" install -q -e "$repo[$extras]" 2>&1 | grep -v "^WARNING: Location" >&2 || true
"$venv/bin/python" -c "import alnumzoo, torchvision" >/dev/null
