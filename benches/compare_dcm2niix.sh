#!/usr/bin/env bash
# Time `cavascope convert --uncompressed` against `dcm2niix -z n` (uncompressed NIfTI for
# both) on the same series, in one run on the same machine, warm page cache, best of N.
#   benches/compare_dcm2niix.sh [RUNS]
# Series: the mrbias 256-slice MR phantom (corpus) and a generated 512×512×400 CT series.
# Prints a Markdown table for docs/benchmarks.md.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
runs="${1:-5}"
cd "$root"
cargo build --release -q -p cavascope-cli -p cavascope-ingest --example gen_ct_series
bin="$root/target/release/cavascope"
corpus="$(test-data/corpus/fetch.sh)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mr="$corpus/mrbias/mrbias-1.0.2/mrbias/roi_detection_templates/siemens_skyra_3p0T/dicom"
ct="$work/ct400"
"$root/target/release/examples/gen_ct_series" "$ct" 400 512 >/dev/null

best() { # best wall time (s) of $runs runs of "$@"
  local b=999999
  for _ in $(seq "$runs"); do
    rm -rf "$work/out" && mkdir -p "$work/out"
    local s e
    s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N)
    b=$(echo "$b $s $e" | awk '{t=$3-$2; print (t<$1)?t:$1}')
  done
  echo "$b"
}

echo "machine: $(lscpu | sed -n 's/^Model name: *//p') × $(nproc) threads, $(free -g | awk '/Mem:/{print $2}') GiB RAM; $(dcm2niix -v 2>&1 | head -1 | cut -c1-60)"
echo
echo "| series | files | cavascope convert (s) | dcm2niix (s) | speed-up |"
echo "|---|---|---|---|---|"
for s in "$mr" "$ct"; do
  n=$(find "$s" -type f | wc -l)
  cat "$s"/* >/dev/null # warm the page cache for both tools alike
  a=$(best "$bin" convert "$s" --out "$work/out" --uncompressed)
  b=$(best dcm2niix -z n -b n -o "$work/out" "$s")
  name=$([ "$s" = "$mr" ] && echo "mrbias MR 256×256×256" || echo "synthetic CT 512×512×400")
  echo "| $name | $n | $a | $b | $(echo "$a $b" | awk '{printf "%.1f×", $2/$1}') |"
done
