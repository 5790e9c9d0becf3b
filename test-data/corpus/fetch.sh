#!/usr/bin/env bash
# Fetch the public DICOM test corpus (shared/test-corpus.md) by pinned version from PyPI
# and unpack it into a cache outside git. Idempotent: a package already unpacked is kept.
#
#   test-data/corpus/fetch.sh [CACHE_DIR]
#
# CACHE_DIR defaults to $CAVASCOPE_CORPUS, else target/corpus-cache. Prints the cache path.
# Needs: python3 with pip (pip download), tar. Licences: see test-data/corpus/README.md.
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
cache="${1:-${CAVASCOPE_CORPUS:-$here/target/corpus-cache}}"
mkdir -p "$cache/dl"
# name==version kind
packages=(
  "mrbias==1.0.2 sdist"
  "nekton==0.2.6 wheel"
  "pydicom==3.0.2 wheel"
  "pydicom-data==1.0.0 wheel"
  "pynetdicom==3.0.4 wheel"
  "dicognito==0.19.0 sdist"
  "dcm-classifier==0.9.9 sdist"
)
for entry in "${packages[@]}"; do
  spec="${entry% *}"; kind="${entry#* }"
  name="${spec%%==*}"
  dest="$cache/$name"
  [ -f "$dest/.complete" ] && continue
  if [ "$kind" = sdist ]; then
    python3 -m pip download -q --no-deps --no-binary :all: "$spec" -d "$cache/dl" >&2
  else
    python3 -m pip download -q --no-deps --only-binary :all: "$spec" -d "$cache/dl" >&2
  fi
  norm="$(echo "$name" | tr '-' '_')"
  file="$(ls "$cache/dl" | grep -iE "^(${name}|${norm})-${spec#*==}[-.]" | head -1)"
  [ -n "$file" ] || { echo "download of $spec produced no file" >&2; exit 1; }
  rm -rf "$dest.tmp" && mkdir -p "$dest.tmp"
  case "$file" in
    *.whl|*.zip) python3 -m zipfile -e "$cache/dl/$file" "$dest.tmp" ;;
    *.tar.gz) tar -xzf "$cache/dl/$file" -C "$dest.tmp" ;;
    *) echo "unknown archive $file" >&2; exit 1 ;;
  esac
  rm -rf "$dest" && mv "$dest.tmp" "$dest" && touch "$dest/.complete"
done
echo "$cache"
