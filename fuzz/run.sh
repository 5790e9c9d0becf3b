#!/usr/bin/env bash
# Run every fuzz target for SECONDS each (default 600), niced, one after another.
#   fuzz/run.sh [SECONDS] [TARGET...]
# Crashes, hangs (> 10 s per input) and out-of-memory inputs land in fuzz/artifacts/<target>/;
# keep each as a regression input under crates/cli/tests/data/fuzz-regressions/.
# cargo-fuzz needs nightly compiler flags: on a stable toolchain RUSTC_BOOTSTRAP=1 allows them.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
secs="${1:-600}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(header_scan pixel_decode volume_assembly jpegls_decode)
command -v cargo-fuzz >/dev/null || { echo "install cargo-fuzz: cargo install cargo-fuzz --locked" >&2; exit 2; }
[ -n "$(ls -A corpus/header_scan 2>/dev/null)" ] || ./seed.sh
export RUSTC_BOOTSTRAP=1
# One decoding thread per input: libFuzzer's own loop is the parallelism we want.
export RAYON_NUM_THREADS=1
for t in "${targets[@]}"; do
  echo "== $t: ${secs} s" >&2
  # Memory: any input whose resident memory passes 2 GiB is a finding. The malloc limit sits
  # above 4 GiB (the most one DICOM element can declare) so that a big allocation is judged
  # by the memory it really touches: dicom-parser allocates and zero-fills a declared length
  # before reading it (finding 1 of docs/reliability.md), which the RSS limit reports.
  # -fork=1 -ignore_*: keep going after a finding, so one run reports them all.
  nice -n 10 cargo fuzz run -O "$t" "corpus/$t" -- \
    -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=4200 \
    -fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1 \
    -max_len=1048576 -print_final_stats=1 2>&1 | tee "artifacts-$t.log" | grep -E "(DONE|stat::|ERROR|SUMMARY|Test unit written|crash|oom|timeout)" || true
done
