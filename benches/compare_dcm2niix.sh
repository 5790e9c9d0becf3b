#!/usr/bin/env bash
# Time `cavascope convert --uncompressed` against `dcm2niix -z n` (uncompressed NIfTI for
# both) on the same series, in one run on the same machine, warm page cache, runs
# interleaved (tool A, tool B, tool A, ...) so machine load hits both alike.
#   benches/compare_dcm2niix.sh [RUNS]
# Series: the mrbias 256-slice MR phantom (corpus) and a generated 512×512×400 CT series.
# Prints a Markdown table for docs/benchmarks.md: best wall time of RUNS, the CPU time
# (user + system) and peak RSS of that best run, and the ratios.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
runs="${1:-5}"
cd "$root"
# Two commands: with `--example`, cargo builds only that target, not the CLI binary.
cargo build --release -q -p cavascope-cli
cargo build --release -q -p cavascope-ingest --example gen_ct_series
target="${CARGO_TARGET_DIR:-$root/target}"
bin="$target/release/cavascope"
corpus="$(test-data/corpus/fetch.sh)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mr="$corpus/mrbias/mrbias-1.0.2/mrbias/roi_detection_templates/siemens_skyra_3p0T/dicom"
ct="$work/ct400"
"$target/release/examples/gen_ct_series" "$ct" 400 512 >/dev/null

one() { # one timed run: prints "wall cpu rss_mb"
  rm -rf "$work/out" && mkdir -p "$work/out"
  /usr/bin/time -f "%e %U %S %M" -o "$work/time" "$@" >/dev/null 2>&1
  awk '{printf "%.3f %.3f %.0f\n", $1, $2 + $3, $4 / 1024}' "$work/time"
}

echo "machine: $(lscpu | sed -n 's/^Model name: *//p') × $(nproc) threads, $(free -g | awk '/Mem:/{print $2}') GiB RAM; $(dcm2niix -v 2>&1 | head -1 | cut -c1-60)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| series | files | cavascope wall (s) | dcm2niix wall (s) | wall speed-up | cavascope CPU (s) | dcm2niix CPU (s) | CPU ratio | cavascope peak RSS (MB) | dcm2niix peak RSS (MB) |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for s in "$mr" "$ct"; do
  n=$(find "$s" -type f | wc -l)
  cat "$s"/* >/dev/null # warm the page cache for both tools alike
  a_best="999 0 0"; b_best="999 0 0"
  for _ in $(seq "$runs"); do
    a=$(one "$bin" convert "$s" --out "$work/out" --uncompressed)
    b=$(one dcm2niix -z n -b n -o "$work/out" "$s")
    a_best=$(echo "$a_best $a" | awk '{ if ($4 < $1) print $4, $5, $6; else print $1, $2, $3 }')
    b_best=$(echo "$b_best $b" | awk '{ if ($4 < $1) print $4, $5, $6; else print $1, $2, $3 }')
  done
  name=$([ "$s" = "$mr" ] && echo "mrbias MR 256×256×256" || echo "synthetic CT 512×512×400")
  echo "$name $n $a_best $b_best" | awk '{
    printf "| %s %s %s | %d | %.2f | %.2f | %.1f× | %.2f | %.2f | %.1f× | %d | %d |\n",
      $1, $2, $3, $4, $5, $8, $8 / $5, $6, $9, $9 / $6, $7, $10 }'
done
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
