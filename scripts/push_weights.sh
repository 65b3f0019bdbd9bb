#!/usr/bin/env bash
# Upload every shipped variant folder to the Hugging Face Hub (needs network and a token:
# `huggingface-cli login` or HF_TOKEN). ORG defaults to alnumzoo, the registry's organisation.
# After uploading, record each commit printed here as "hub_revision" of its entry in
# src/alnumzoo/weights/zoo.json, so from_pretrained pins it when downloading.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
org="${1:-alnumzoo}"
bin="${ALNUMZOO_VENV:-$repo/.venv}/bin"
for folder in "$repo"/src/alnumzoo/weights/*/; do
  name="$(basename "$folder")"
  "$bin/alnumzoo" push "$folder" "$org/$name" --message "alnumzoo $name weights"
done
