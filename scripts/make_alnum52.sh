#!/usr/bin/env bash
# The project's alnum52 recipe: install the Debian font packages it renders from, then write
# the default data set (800 train / 300 valid per class, 100x100, seed 0).
#   bash scripts/make_alnum52.sh [--npm-fonts] [OUT_DIR] [extra render-alnum52 options, e.g. --size 90]
# --npm-fonts also fetches the Google Fonts families pinned in scripts/npm_fonts.txt with
# `npm pack` (into ALNUMZOO_FONT_CACHE, default ~/.cache/alnumzoo/npm-fonts; never committed)
# and renders from both. The train/valid split stays by font family over all of them.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
npm_fonts=0
if [ "${1:-}" = "--npm-fonts" ]; then npm_fonts=1; shift; fi
out="${1:-$repo/data/alnum52}"; shift || true
fonts=(
  fonts-aenigma fonts-dejavu-core fonts-dejavu-extra fonts-liberation fonts-urw-base35
  fonts-texgyre fonts-freefont-ttf fonts-crosextra-caladea fonts-crosextra-carlito
  fonts-linuxlibertine fonts-ebgaramond fonts-cantarell fonts-open-sans fonts-roboto-unhinted
  fonts-lato fonts-comic-neue fonts-go fonts-inconsolata fonts-lobster fonts-noto-mono
)
missing=()
for p in "${fonts[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ "$npm_fonts" = 1 ] && ! command -v npm >/dev/null 2>&1; then missing+=(npm); fi
if [ "${#missing[@]}" -gt 0 ]; then
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi
bash "$repo/scripts/bootstrap.sh"
bin="${ALNUMZOO_VENV:-$repo/.venv}/bin"
if [ "$npm_fonts" = 1 ]; then
  cache="${ALNUMZOO_FONT_CACHE:-$HOME/.cache/alnumzoo/npm-fonts}"
  "$bin/alnumzoo" fetch-fonts "$repo/scripts/npm_fonts.txt" "$cache"
  "$bin/alnumzoo" render-alnum52 "$out" --fonts /usr/share/fonts "$cache" "$@"
else
  "$bin/alnumzoo" render-alnum52 "$out" "$@"
fi
