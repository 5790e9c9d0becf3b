#!/usr/bin/env bash
# Run cavascope over many studies as a Slurm job array: task I of N analyses the studies
# `cavascope batch --shard I/N` gives it (round robin over the list, so shards differ by at
# most one study), all tasks writing into one shared OUT. See docs/batch.md.
#
#   sbatch --array=1-20 scripts/slurm_array.sh studies.txt /shared/results
#   # when all tasks are done, merge the per-shard summaries into OUT/summary.csv:
#   cavascope batch studies.txt --out /shared/results --resume
#
#SBATCH --job-name=cavascope
#SBATCH --cpus-per-task=8
#SBATCH --mem=16G
#SBATCH --time=04:00:00
#SBATCH --output=cavascope-%A_%a.log
set -euo pipefail
list="${1:?usage: sbatch --array=1-N slurm_array.sh LIST_OR_ROOT OUT}"
out="${2:?usage: sbatch --array=1-N slurm_array.sh LIST_OR_ROOT OUT}"
i="${SLURM_ARRAY_TASK_ID:?run under sbatch --array}"
# The array's size: its highest index (arrays written 1-N).
n="${SLURM_ARRAY_TASK_MAX:?run under sbatch --array}"
cavascope="${CAVASCOPE:-cavascope}"
# --resume: a task that is re-queued (preempted, timed out) skips the studies it finished.
# Exit code 1 when a study failed: the task is marked FAILED and the summary says which.
exec "$cavascope" batch "$list" --out "$out" --shard "$i/$n" --resume \
  --threads "${SLURM_CPUS_PER_TASK:-1}" --quiet
