#!/usr/bin/env bash
# Install what the tests need, then run the whole suite.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$repo/scripts/bootstrap.sh"
cd "$repo"
exec "${ALNUMZOO_VENV:-$repo/.venv}/bin/python" -m pytest -q "$@"
