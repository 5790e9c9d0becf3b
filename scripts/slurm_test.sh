#!/usr/bin/env bash
# A real single-node Slurm on loopback runs scripts/slurm_array.sh (the job array of
# docs/batch.md) over a root of phantom studies, one of them broken:
#   1. the array's per-shard summaries, merged by one `--resume` run, equal an unsharded
#      local run (every column but `seconds`);
#   2. a task cancelled (scancel) in the middle of a study, then the `--resume` run: the
#      set is finished, nothing lost, nothing half-written, the summary again equal.
#
#   scripts/slurm_test.sh CAVASCOPE_BINARY [WORKDIR]
#
# Brings up munged, slurmctld and slurmd (2 CPUs) with a generated slurm.conf under
# WORKDIR (default: a fresh temporary folder), on free loopback ports, and stops them on
# exit. Exit codes: 0 passed; 1 failed; 77 the services cannot start on this machine (not
# root, or a daemon refused to start: the reason is printed); 78 a program is missing.
set -euo pipefail
SKIP=77
MISSING=78

die() { echo "slurm_test: FAILED: $*" >&2; exit 1; }
say() { echo "slurm_test: $*" >&2; }

bin="${1:?usage: slurm_test.sh CAVASCOPE_BINARY [WORKDIR]}"
bin="$(realpath "$bin")"
[ -x "$bin" ] || die "$bin is not executable"
here="$(cd "$(dirname "$0")" && pwd)"
array_script="$here/slurm_array.sh"

for p in munged slurmctld slurmd sbatch squeue scancel sinfo python3; do
  command -v "$p" >/dev/null 2>&1 || { say "MISSING: $p is not installed (Debian: slurm-wlm, munge, python3)"; exit $MISSING; }
done
if [ "$(id -u)" != 0 ]; then
  say "SKIPPED: slurmd must run as root to start jobs; this user is $(id -un)"
  exit $SKIP
fi

work="${2:-$(mktemp -d /tmp/cavascope-slurm.XXXXXX)}"
mkdir -p "$work"
work="$(realpath "$work")"
rm -rf "$work"/{munge,state,spool,logs,root,local,array,killed}
mkdir -p "$work"/{munge,state,spool,logs}
chmod 700 "$work/munge"

pids=()
cleanup() {
  # Only the daemons this script started, by their process ids.
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# --- munge: its own key and socket, nothing system-wide touched.
dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$work/munge/munge.key"
sock="$work/munge/munge.socket"
munged --foreground --force --key-file="$work/munge/munge.key" --socket="$sock" \
  --pid-file="$work/munge/munged.pid" --log-file="$work/munge/munged.log" \
  --seed-file="$work/munge/munged.seed" >"$work/logs/munged.out" 2>&1 &
pids+=($!)
for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
if [ ! -S "$sock" ]; then
  say "SKIPPED: munged could not start here:"; tail -5 "$work/logs/munged.out" "$work/munge/munged.log" >&2 || true
  exit $SKIP
fi

# --- slurm.conf: one node with 2 CPUs, on loopback.
mem_mb=$(awk '/MemTotal/ {print int($2/1024/2)}' /proc/meminfo)
ctl_port=$(free_port); d_port=$(free_port)
conf="$work/slurm.conf"
cat >"$conf" <<EOF
ClusterName=cavascope-test
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$ctl_port
SlurmdPort=$d_port
AuthType=auth/munge
AuthInfo=socket=$sock
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/logs/slurmctld.log
SlurmdLogFile=$work/logs/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
SchedulerType=sched/backfill
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
SlurmdTimeout=60
KillWait=5
NodeName=cavanode NodeHostname=localhost NodeAddr=127.0.0.1 CPUs=2 RealMemory=$mem_mb State=UNKNOWN
PartitionName=test Nodes=cavanode Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$conf"

slurmctld -D -i -f "$conf" >"$work/logs/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -N cavanode -f "$conf" >"$work/logs/slurmd.out" 2>&1 &
pids+=($!)
up=0
for _ in $(seq 120); do
  if sinfo -h -N -o '%T' 2>/dev/null | grep -Eq '^(idle|mixed|allocated)'; then up=1; break; fi
  for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null || break 2; done
  sleep 0.5
done
if [ "$up" != 1 ]; then
  say "SKIPPED: slurmctld/slurmd could not start here (node state: $(sinfo -h -N -o '%T' 2>&1 | head -1)):"
  tail -n 8 "$work"/logs/slurmctld.out "$work"/logs/slurmd.out "$work"/logs/slurmctld.log "$work"/logs/slurmd.log >&2 2>/dev/null || true
  exit $SKIP
fi
say "Slurm up: $(sinfo -h -N -o '%N %c CPUs %m MB %T')"

# --- the studies: three small phantoms and a broken one.
root="$work/root"
for c in normal ivc_leiomyosarcoma extrinsic_compression; do
  "$bin" phantom --case "$c" --size small --out "$root/$c" --quiet >/dev/null
done
mkdir -p "$root/broken" && echo "not DICOM" >"$root/broken/junk.dcm"

# Compare two summaries on every column but `seconds`.
same_summary() {
  python3 - "$1" "$2" <<'PY'
import csv, sys
def rows(p):
    with open(p, newline="") as f:
        r = list(csv.DictReader(f))
    for x in r:
        x.pop("seconds", None)
    return r
a, b = rows(sys.argv[1]), rows(sys.argv[2])
if a != b:
    for x, y in zip(a, b):
        if x != y:
            print("differs:", {k: (x[k], y.get(k)) for k in x if x[k] != y.get(k)}, file=sys.stderr)
    print(f"{len(a)} vs {len(b)} rows", file=sys.stderr)
    sys.exit(1)
print(f"{len(a)} rows equal")
PY
}

# Nothing half-written: no hidden partial folder, every study has a report.json.
whole() {
  local out="$1"
  if find "$out" -maxdepth 1 -name '.*.partial' | grep -q .; then die "$out: partial folders left"; fi
  for s in normal ivc_leiomyosarcoma extrinsic_compression broken; do
    [ -f "$out/$s/report.json" ] || [ -f "$out/$s/error.txt" ] || die "$out/$s: no report"
  done
  [ -f "$out/broken/error.txt" ] || die "$out/broken: the broken study did not fail"
}

wait_job() { # job id, seconds
  local t=0
  while squeue -h -j "$1" 2>/dev/null | grep -q .; do
    sleep 1; t=$((t + 1)); [ $t -lt "$2" ] || die "job $1 still running after $2 s"
  done
}

export PATH="$(dirname "$bin"):$PATH" CAVASCOPE="$bin"
t0=$(date +%s)
# 1. Unsharded, locally (exit 1: the broken study fails).
"$bin" batch "$root" --out "$work/local" --threads 1 --quiet || true
[ -f "$work/local/summary.csv" ] || die "local run wrote no summary"
t_local=$(( $(date +%s) - t0 ))

# 2. The array (2 tasks, 1 CPU each; the script's --cpus-per-task/--mem overridden to fit).
t0=$(date +%s)
job=$(sbatch --parsable --array=1-2 --cpus-per-task=1 --mem=1G \
  --output="$work/logs/array-%A_%a.log" --chdir="$work" "$array_script" "$root" "$work/array")
say "array job $job submitted"
wait_job "$job" 900
for i in 1 2; do [ -f "$work/array/summary-shard-$i-of-2.csv" ] || die "shard $i wrote no summary: $(cat "$work"/logs/array-"${job}"_"$i".log)"; done
"$bin" batch "$root" --out "$work/array" --resume --threads 1 --quiet || true
t_array=$(( $(date +%s) - t0 ))
same_summary "$work/local/summary.csv" "$work/array/summary.csv" || die "merged array summary differs from the local run"
whole "$work/array"

# 3. Task 1 cancelled in the middle of a study, then the --resume run under Slurm.
job=$(sbatch --parsable --array=1-2 --cpus-per-task=1 --mem=1G \
  --output="$work/logs/killed-%A_%a.log" --chdir="$work" "$array_script" "$root" "$work/killed")
# Shard 1 of 2 holds `broken` and `ivc_leiomyosarcoma` (byte order); cancel it inside the latter.
t=0
until [ -d "$work/killed/.ivc_leiomyosarcoma.partial" ]; do
  sleep 0.2; t=$((t + 1)); [ $t -lt 3000 ] || die "task 1 never started its study"
  squeue -h -j "${job}_1" 2>/dev/null | grep -q . || die "task 1 ended before it could be cancelled"
done
scancel "${job}_1"
say "cancelled task ${job}_1 inside ivc_leiomyosarcoma"
wait_job "$job" 900
[ ! -f "$work/killed/ivc_leiomyosarcoma/report.json" ] || die "the cancelled study has a report"
rjob=$(sbatch --parsable --cpus-per-task=2 --mem=1G --output="$work/logs/resume-%j.log" --chdir="$work" \
  --wrap "exec \"$bin\" batch \"$root\" --out \"$work/killed\" --resume --threads 2 --quiet")
wait_job "$rjob" 900
grep -q 'ivc_leiomyosarcoma,.*,ok,' "$work/killed/summary.csv" || die "the resumed run did not finish the cancelled study"
same_summary "$work/local/summary.csv" "$work/killed/summary.csv" || die "resumed summary differs from the local run"
whole "$work/killed"

say "PASSED: local run ${t_local} s; 2-task array + merge ${t_array} s; cancelled task resumed; all summaries equal"
