#!/usr/bin/env bash
# Build the docs site and screenshot the Model zoo page with headless Chromium, to check that
# the generated tables render (look at the PNG). Usage: bash scripts/screenshot_docs.sh [OUT.png]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$repo/runs/docs-zoo.png}"
bin="${ALNUMZOO_VENV:-$repo/.venv}/bin"
if ! command -v chromium-headless-shell >/dev/null && ! command -v chromium >/dev/null; then
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium-headless-shell >/dev/null
fi
browser="$(command -v chromium-headless-shell || command -v chromium)"
site="$(mktemp -d)/site"
cd "$repo"
NO_MKDOCS_2_WARNING=1 "$bin/mkdocs" build --strict -q --site-dir "$site"
mkdir -p "$(dirname "$out")"
# Serve the site over HTTP on loopback: file:// pages would not load the theme's assets the same way.
"$bin/python" -m http.server --bind 127.0.0.1 --directory "$site" 8765 >/dev/null 2>&1 &
server=$!
trap 'kill $server' EXIT
sleep 1
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1400,1800 \
  --screenshot="$out" "http://127.0.0.1:8765/zoo/" >/dev/null 2>&1
echo "screenshot of the Model zoo page: $out"
