#!/usr/bin/env bash
# Seed the fuzz corpora from the public DICOM test corpus and a phantom study.
#   fuzz/seed.sh [CORPUS_DIR]   (default: $CAVASCOPE_CORPUS or <repo>/target/corpus-cache,
#                                 filled by test-data/corpus/fetch.sh)
# Files over 256 KiB are left out: libFuzzer mutates small inputs far faster.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
src="${1:-${CAVASCOPE_CORPUS:-$repo/target/corpus-cache}}"
mkdir -p "$here/corpus/header_scan" "$here/corpus/pixel_decode" "$here/corpus/volume_assembly" "$here/corpus/jpegls_decode"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
if [ -d "$src" ]; then
  find "$src" -type f \( -iname '*.dcm' -o -iname '*.dicom' -o -iname 'IM*' -o -iname '*.ima' \) -size -256k > "$scratch/files" || true
else
  echo "no corpus at $src (see shared/test-corpus.md); phantom seeds only" >&2
  : > "$scratch/files"
fi
# A phantom study: real-sized slices written by our own writer (cropped by size above).
if command -v cargo >/dev/null && (cd "$repo" && cargo run -q --release -- phantom --case normal --transfer-syntax jpegls --out "$scratch/phantom" >/dev/null 2>&1); then
  find "$scratch/phantom" -type f -size -256k >> "$scratch/files"
fi
python3 - "$scratch/files" "$here/corpus" <<'PY'
import hashlib, os, sys, collections
files = [l.strip() for l in open(sys.argv[1]) if l.strip()]
out = sys.argv[2]
sep = b"\n--CAVASCOPE-NEXT-FILE--\n"
def put(target, data):
    name = hashlib.sha1(data).hexdigest()
    with open(os.path.join(out, target, name), "wb") as f:
        f.write(data)
by_dir = collections.defaultdict(list)
for p in files:
    data = open(p, "rb").read()
    put("header_scan", data)
    put("pixel_decode", data)
    # JPEG-LS streams (SOI + SOF55 … EOI) inside encapsulated pixel data.
    i = data.find(b"\xff\xd8\xff\xf7")
    while i >= 0:
        j = data.find(b"\xff\xd9", i)
        if j < 0:
            break
        put("jpegls_decode", data[i:j + 2])
        i = data.find(b"\xff\xd8\xff\xf7", j)
    by_dir[os.path.dirname(p)].append(data)
# Volume assembly: up to 4 small files of one folder (usually one series) per input.
n = 0
for d, datas in sorted(by_dir.items()):
    datas = sorted(datas, key=len)[:4]
    if len(datas) >= 2 and sum(map(len, datas)) < 512 * 1024:
        put("volume_assembly", sep.join(datas)); n += 1
    for x in datas[:1]:
        put("volume_assembly", x)
print(f"seeded {len(files)} files, {n} multi-file inputs", file=sys.stderr)
PY
