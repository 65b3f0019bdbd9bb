#!/usr/bin/env bash
# The library's main job on this machine, from nothing: set up, then run the demo.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$repo/scripts/bootstrap.sh"
exec "${ALNUMZOO_VENV:-$repo/.venv}/bin/python" "$repo/examples/quickstart.py" "$@"
