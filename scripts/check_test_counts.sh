#!/usr/bin/env bash
# Proves that a test log shows every test that exists, run:
#   ran (passed + failed, summed over every "test result:" line of LOG)
#     == listed by `cargo test ARGS -- --list` minus listed by `-- --list --ignored`,
#   no test binary filtered anything out, and no output line says SKIP (a peer check that
#   did not run; cavascope-testkit prints that outside CI and panics in CI).
#
#   scripts/check_test_counts.sh LOG [CARGO TEST ARGS...]   (default args: --workspace)
#
# LOG is the output of `cargo test ARGS -- --show-output` (with --show-output the captured
# stderr of passing tests is in the log too, so a SKIP line cannot hide).
set -euo pipefail
cd "$(dirname "$0")/.."
log="${1:?usage: scripts/check_test_counts.sh LOG [cargo test args]}"
shift
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(--workspace)

# "N tests, M benchmarks" once per test binary and doc-test crate.
count_listed() {
  cargo test "${args[@]}" -- --list "$@" 2>/dev/null |
    awk '/^[0-9]+ tests?, [0-9]+ benchmarks?$/ { n += $1 } END { print n + 0 }'
}
listed=$(count_listed)
ignored=$(count_listed --ignored)

read -r ran failed ign filtered binaries < <(
  awk '/^test result: / {
         for (i = 1; i <= NF; i++) {
           if ($(i+1) ~ /^passed;?$/) p += $i
           if ($(i+1) ~ /^failed;?$/) f += $i
           if ($(i+1) ~ /^ignored;?$/) g += $i
           if ($(i+1) == "filtered") o += $i
         }
         b++
       }
       END { print p + f, f + 0, g + 0, o + 0, b + 0 }' "$log")

echo "test binaries with results: $binaries"
echo "tests listed: $listed, of which ignored: $ignored; ran: $ran (failed $failed), reported ignored: $ign, filtered out: $filtered"
bad=0
if [ "$ran" -ne $((listed - ignored)) ]; then
  echo "FAIL: $ran tests ran, but $listed exist and $ignored are ignored (expected $((listed - ignored)))" >&2
  bad=1
fi
if [ "$ign" -ne "$ignored" ]; then
  echo "FAIL: the log reports $ign ignored tests, the listing $ignored" >&2
  bad=1
fi
if [ "$filtered" -ne 0 ]; then
  echo "FAIL: $filtered tests were filtered out" >&2
  bad=1
fi
if grep -n 'SKIP' "$log" >&2; then
  echo "FAIL: test output above says SKIP: a check did not run" >&2
  bad=1
fi
[ "$bad" -eq 0 ] && echo "test counts agree; no SKIP in the output"
exit "$bad"
