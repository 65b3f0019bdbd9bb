#!/usr/bin/env bash
# The library's main job on this machine, from nothing: set up, then run the demo
# (render a small character set, train for a budget, evaluate, save, reload, predict).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$repo/scripts/bootstrap.sh"
cd "$repo"
exec "${ALNUMZOO_VENV:-$repo/.venv}/bin/python" examples/demo.py "$@"
