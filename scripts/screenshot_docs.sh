#!/usr/bin/env bash
# Build the docs site and screenshot pages with headless Chromium, to check that generated tables
# and API pages render (look at the PNGs).
#   bash scripts/screenshot_docs.sh [OUT_DIR] [PAGE ...]     (default pages: zoo/ api/alnumzoo/)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out_dir="${1:-$repo/runs/docs}"; shift || true
pages=("$@"); [ "${#pages[@]}" -gt 0 ] || pages=(zoo/ api/alnumzoo/)
bin="${ALNUMZOO_VENV:-$repo/.venv}/bin"
if ! command -v chromium-headless-shell >/dev/null && ! command -v chromium >/dev/null; then
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium-headless-shell >/dev/null
fi
browser="$(command -v chromium-headless-shell || command -v chromium)"
site="$(mktemp -d)/site"
cd "$repo"
NO_MKDOCS_2_WARNING=1 "$bin/mkdocs" build --strict -q --site-dir "$site"
mkdir -p "$out_dir"
# Serve the site over HTTP on loopback: file:// pages would not load the theme's assets the same way.
"$bin/python" -m http.server --bind 127.0.0.1 --directory "$site" 8765 >/dev/null 2>&1 &
server=$!
trap 'kill $server' EXIT
sleep 1
for page in "${pages[@]}"; do
  png="$out_dir/$(echo "${page%/}" | tr '/' '_').png"
  "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,2400 \
    --disable-background-networking --disable-component-update --no-first-run \
    --screenshot="$png" "http://127.0.0.1:8765/$page" >/dev/null 2>&1
  echo "screenshot of $page: $png"
done
