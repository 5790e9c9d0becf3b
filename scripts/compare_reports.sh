#!/usr/bin/env bash
# Behaviour check for refactors: run `cavascope analyze` with a baseline binary and a
# candidate binary on every phantom case (small grid, with the truth's seeds and in auto
# mode, as crates/cli/tests/analyze_phantom.rs does) plus the demo study (standard grid,
# auto), and compare report.json field by field.
#
#   scripts/compare_reports.sh BASE_BIN NEW_BIN [WORKDIR] [--no-demo] [--tol REL]
#
# Studies are generated once with BASE_BIN into WORKDIR/studies; baseline reports are
# kept in WORKDIR/base and reused when present (delete them to regenerate), candidate
# reports go to WORKDIR/new (NEW_BIN `none`: only make the baseline). Ignored: tool name/version, input paths,
# `timings` (wall seconds, different every run). Numbers compare
# within a relative/absolute tolerance (default 1e-9); every other value must be equal.
# Exit status 0 when every report matches, 1 otherwise.
set -euo pipefail

usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
[ $# -ge 2 ] || usage
BASE_BIN=$(realpath "$1")
NEW_BIN=$2
[ "$NEW_BIN" = none ] || NEW_BIN=$(realpath "$NEW_BIN")
shift 2
WORK=target/compare-reports
if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then WORK=$1; shift; fi
DEMO=1
TOL=1e-9
while [ $# -gt 0 ]; do
    case $1 in
        --no-demo) DEMO=0 ;;
        --tol) TOL=$2; shift ;;
        *) usage ;;
    esac
    shift
done
mkdir -p "$WORK"
WORK=$(realpath "$WORK")

CASES="normal ivc_leiomyosarcoma cholangiocarcinoma_mimic extrinsic_compression liposarcoma hcc_washout mri_leiomyosarcoma"

# study name -> "case size"
declare -A STUDY
for c in $CASES; do STUDY[$c]="$c small"; done
[ $DEMO = 1 ] && STUDY[demo]="ivc_leiomyosarcoma standard"

for s in "${!STUDY[@]}"; do
    read -r case size <<<"${STUDY[$s]}"
    if [ ! -f "$WORK/studies/$s/truth.json" ]; then
        rm -rf "$WORK/studies/$s"
        "$BASE_BIN" phantom --case "$case" --size "$size" --out "$WORK/studies/$s" >/dev/null
    fi
done

seed_args() {
    python3 - "$1" <<'EOF'
import json, sys
t = json.load(open(sys.argv[1]))
p = lambda v: ",".join(repr(float(x)) for x in v)
out = ["--ivc-seed=" + p(t["ivc_seed_mm"])]
if t.get("mass_seed_mm"):
    out.append("--mass-seed=" + p(t["mass_seed_mm"]))
print(" ".join(out))
EOF
}

# runs: "label study mode"
RUNS=()
for c in $CASES; do RUNS+=("${c}_seeds $c seeds" "${c}_auto $c auto"); done
[ $DEMO = 1 ] && RUNS+=("demo_auto demo auto")

run_one() { # bin outdir label study mode
    local bin=$1 out=$2 study=$4 mode=$5 args=()
    [ "$mode" = seeds ] && read -r -a args <<<"$(seed_args "$WORK/studies/$study/truth.json")"
    rm -rf "$out"
    "$bin" analyze "$WORK/studies/$study" --out "$out" --quiet "${args[@]}" >/dev/null 2>"$out.stderr" || {
        echo "analyze failed ($bin, $study $mode): $(tail -3 "$out.stderr")" >&2
        return 1
    }
}

fail=0
for r in "${RUNS[@]}"; do
    read -r label study mode <<<"$r"
    if [ ! -f "$WORK/base/$label/report.json" ]; then
        mkdir -p "$WORK/base"
        run_one "$BASE_BIN" "$WORK/base/$label" $r || fail=1
    fi
    [ "$NEW_BIN" = none ] && continue
    mkdir -p "$WORK/new"
    t0=$(date +%s.%N)
    run_one "$NEW_BIN" "$WORK/new/$label" $r || fail=1
    printf '%-36s new run %5.1f s\n' "$label" "$(echo "$(date +%s.%N) - $t0" | bc)"
done

[ "$NEW_BIN" = none ] && exit $fail
BENCHES="$(cd "$(dirname "$0")/../benches" && pwd)" \
python3 - "$WORK" "$TOL" "${RUNS[@]}" <<'EOF' || fail=1
import json, os, sys
# One field-by-field comparison for this script and benches/analyze_bench.py (which
# ignores the same fields: tool, input path, timings).
sys.path.insert(0, os.environ["BENCHES"])
from analyze_bench import diff as diff_tol
work, tol, runs = sys.argv[1], float(sys.argv[2]), sys.argv[3:]

def diff(a, b, path, out):
    diff_tol(a, b, path, out, tol)

def leaves(v):
    if isinstance(v, dict): return sum(leaves(x) for x in v.values())
    if isinstance(v, list): return sum(leaves(x) for x in v)
    return 1

bad = 0
total = 0
for r in runs:
    label = r.split()[0]
    try:
        a = json.load(open(f"{work}/base/{label}/report.json"))
        b = json.load(open(f"{work}/new/{label}/report.json"))
    except Exception as e:
        print(f"{label:36} MISSING ({e})"); bad += 1; continue
    out = []
    diff(a, b, (), out)
    total += leaves(a)
    if out:
        bad += 1
        print(f"{label:36} DIFFERS in {len(out)} fields")
        for line in out[:20]: print("    " + line)
    else:
        print(f"{label:36} identical ({leaves(a)} fields)")
print(f"{len(runs) - bad}/{len(runs)} reports identical ({total} fields compared, tolerance {tol:g})")
sys.exit(1 if bad else 0)
EOF
exit $fail
