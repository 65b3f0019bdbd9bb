#!/usr/bin/env bash
# The project's alnum52 recipes: install the font packages a recipe renders from, then write the
# data set. Fonts are never committed.
#   bash scripts/make_alnum52.sh [--npm-fonts | --wide] [OUT_DIR] [extra render-alnum52 options]
# (default) the course-style set of the shipped format 1 weights: 20 Debian packages,
#           800 train / 300 valid per class, 100x100, seed 0.
# --npm-fonts  also the @expo-google-fonts families pinned in scripts/npm_fonts.txt.
# --wide    the format 2 corpus: every Latin-capable Debian package in scripts/debian_fonts.txt
#           and every Google Fonts family in scripts/fontsource_fonts.txt (npm pack into
#           ALNUMZOO_FONT_CACHE, default ~/.cache/alnumzoo), rendered in the real-world style into
#           three splits by family group, stratified by category: train (75% of faces, 3000
#           images per class), select (8%, 100 per class) and heldout (17%, 300 per class).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
npm_fonts=0
wide=0
if [ "${1:-}" = "--npm-fonts" ]; then npm_fonts=1; shift; fi
if [ "${1:-}" = "--wide" ]; then wide=1; shift; fi
out="${1:-$repo/data/alnum52}"; shift || true
cache_root="${ALNUMZOO_FONT_CACHE:-$HOME/.cache/alnumzoo}"
if [ "$wide" = 1 ]; then
  mapfile -t fonts < <(sed 's/#.*//' "$repo/scripts/debian_fonts.txt" | tr -s ' ' '\n' | grep .)
else
  fonts=(
    fonts-aenigma fonts-dejavu-core fonts-dejavu-extra fonts-liberation fonts-urw-base35
    fonts-texgyre fonts-freefont-ttf fonts-crosextra-caladea fonts-crosextra-carlito
    fonts-linuxlibertine fonts-ebgaramond fonts-cantarell fonts-open-sans fonts-roboto-unhinted
    fonts-lato fonts-comic-neue fonts-go fonts-inconsolata fonts-lobster fonts-noto-mono
  )
fi
missing=()
for p in "${fonts[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
# npm may come with Node.js rather than from Debian: look for the command, not the package.
if [ "$npm_fonts" = 1 ] || [ "$wide" = 1 ]; then
  command -v npm >/dev/null 2>&1 || missing+=(npm)
fi
if [ "${#missing[@]}" -gt 0 ]; then
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi
bash "$repo/scripts/bootstrap.sh"
bin="${ALNUMZOO_VENV:-$repo/.venv}/bin"
if [ "$wide" = 1 ]; then
  "$bin/alnumzoo" fetch-fonts "$repo/scripts/fontsource_fonts.txt" "$cache_root/fontsource"
  "$bin/alnumzoo" render-alnum52 "$out" --fonts /usr/share/fonts "$cache_root/fontsource" \
    --style real-world --debian-categories "$repo/scripts/debian_fonts.txt" \
    --train-per-class 3000 --split select:0.08:100 --split heldout:0.17:300 "$@"
else
  # Only the recipe's packages: a machine that also holds the wide corpus's fonts would
  # otherwise render these sets from all of them.
  mapfile -t files < <(dpkg -L "${fonts[@]}" | grep -iE '\.(ttf|otf|ttc|pfb|t1)$' | sort -u)
  if [ "$npm_fonts" = 1 ]; then
    cache="$cache_root/npm-fonts"
    "$bin/alnumzoo" fetch-fonts "$repo/scripts/npm_fonts.txt" "$cache"
    files+=("$cache")
  fi
  "$bin/alnumzoo" render-alnum52 "$out" --fonts "${files[@]}" "$@"
fi
