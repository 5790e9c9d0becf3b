#!/usr/bin/env bash
# Fetch the real abdominal volumes (shared/test-corpus.md, "Real abdominal volumes") by
# pinned version from PyPI and unpack them into a cache outside git. Idempotent and safe to
# run from several test processes at once (flock, unpack to a temporary name, rename).
#
#   test-data/real/fetch.sh [CACHE_DIR]
#
# CACHE_DIR defaults to $CAVASCOPE_REAL, else ~/.cache/cavascope/real. Layout:
#   CACHE_DIR/<package>-<version>/...   e.g. totalsegmentator-2.18.0/tests/reference_files/
# Prints the cache path. Needs: python3 with pip, tar, flock. Licences: README.md here.
set -euo pipefail
cache="${1:-${CAVASCOPE_REAL:-${XDG_CACHE_HOME:-$HOME/.cache}/cavascope/real}}"
mkdir -p "$cache/dl"
exec 9>"$cache/.lock"
flock 9
# name==version kind
packages=(
  "totalsegmentator==2.18.0 sdist"
  "renalsegmentor==2.0.0 wheel"
  "pyradiomics==3.0.1 sdist"
)
for entry in "${packages[@]}"; do
  spec="${entry% *}"; kind="${entry#* }"
  name="${spec%%==*}"; version="${spec#*==}"
  dest="$cache/$name-$version"
  [ -f "$dest/.complete" ] && continue
  norm="$(echo "$name" | tr '-' '_')"
  find_archive() { ls "$cache/dl" | grep -iE "^(${name}|${norm})-${version}[-.]" | head -1 || true; }
  file="$(find_archive)"
  if [ -z "$file" ]; then
    if [ "$kind" = sdist ]; then
      # pip prepares an sdist's metadata after downloading it, and pyradiomics' setup.py
      # imports numpy; when that fails, take the same file from PyPI's simple API and check
      # its sha256 (the file is only unpacked, never built).
      python3 -m pip download -q --no-deps --no-binary :all: "$spec" -d "$cache/dl" >/dev/null 2>&1 \
        || python3 - "$name" "$version" "$cache/dl" >&2 <<'PY'
import hashlib, json, os, sys, urllib.request
name, version, out = sys.argv[1:4]
req = urllib.request.Request(f"https://pypi.org/simple/{name}/",
                             headers={"Accept": "application/vnd.pypi.simple.v1+json"})
files = json.load(urllib.request.urlopen(req, timeout=60))["files"]
sd = [f for f in files if f["filename"].lower() in
      (f"{name}-{version}.tar.gz", f"{name.replace('-', '_')}-{version}.tar.gz")]
if not sd:
    sys.exit(f"{name}=={version}: no sdist on PyPI")
f = sd[0]
data = urllib.request.urlopen(f["url"], timeout=300).read()
if hashlib.sha256(data).hexdigest() != f["hashes"]["sha256"]:
    sys.exit(f"{f['filename']}: sha256 mismatch")
tmp = os.path.join(out, f["filename"] + ".part")
with open(tmp, "wb") as fh:
    fh.write(data)
os.replace(tmp, os.path.join(out, f["filename"]))
PY
    else
      python3 -m pip download -q --no-deps --only-binary :all: "$spec" -d "$cache/dl" >&2
    fi
    file="$(find_archive)"
  fi
  [ -n "$file" ] || { echo "download of $spec produced no file" >&2; exit 1; }
  rm -rf "$dest.tmp" && mkdir -p "$dest.tmp"
  case "$file" in
    *.whl|*.zip) python3 -m zipfile -e "$cache/dl/$file" "$dest.tmp" ;;
    *.tar.gz) tar -xzf "$cache/dl/$file" -C "$dest.tmp" ;;
    *) echo "unknown archive $file" >&2; exit 1 ;;
  esac
  # An sdist holds one top folder <name>-<version>/: lift its contents so that every
  # package reads CACHE_DIR/<name>-<version>/<path inside the package>.
  inner="$(ls "$dest.tmp")"
  if [ "$(echo "$inner" | wc -l)" = 1 ] && [ -d "$dest.tmp/$inner" ] \
     && echo "$inner" | grep -qiE "^(${name}|${norm})-${version}$"; then
    mv "$dest.tmp/$inner" "$dest.tmp.inner" && rmdir "$dest.tmp" && mv "$dest.tmp.inner" "$dest.tmp"
  fi
  rm -rf "$dest" && mv "$dest.tmp" "$dest" && touch "$dest/.complete"
done
echo "$cache"
