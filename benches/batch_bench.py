#!/usr/bin/env python3
"""Batch benchmark (issue 19): `cavascope batch` over N small phantom studies — wall, CPU
(user + system) and peak RSS of the whole process from `wait4` (the figures
`/usr/bin/time -v` prints), studies per minute, and each study's `timings` from its
report.json; peak RSS is compared with one study's voxels as f32 (a batch must hold one
study at a time, not N).

    python3 benches/batch_bench.py BIN [--studies 50] [--work DIR] [--threads N]
        [--distinct 7] [--json OUT.json]

The phantom's seven cases are generated once each (small grid, seeds 1..) and the N
study folders are hard links to them (`cp -al`: N different folders, no extra disk);
every study is analysed from scratch, so repeating a case does not make it cheaper.
Exit status 1 when the batch fails or a study's report is missing.
"""
import argparse
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from analyze_bench import loadavg, timed  # noqa: E402

CASES = ["normal", "ivc_leiomyosarcoma", "cholangiocarcinoma_mimic", "extrinsic_compression",
         "liposarcoma", "hcc_washout", "mri_leiomyosarcoma"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("bin")
    ap.add_argument("--studies", type=int, default=50)
    ap.add_argument("--distinct", type=int, default=len(CASES))
    ap.add_argument("--work", default="target/batch-bench")
    ap.add_argument("--threads", type=int)
    ap.add_argument("--json")
    a = ap.parse_args()
    binary = os.path.abspath(a.bin)
    work = os.path.abspath(a.work)
    src = os.path.join(work, "cases")
    root = os.path.join(work, "studies")
    os.makedirs(src, exist_ok=True)
    cases = [CASES[i % len(CASES)] for i in range(max(1, min(a.distinct, len(CASES))))]
    for c in cases:
        d = os.path.join(src, c)
        if not os.path.isfile(os.path.join(d, "truth.json")):
            shutil.rmtree(d, ignore_errors=True)
            subprocess.run([binary, "phantom", "--case", c, "--size", "small", "--out", d, "--quiet"],
                           check=True, stdout=subprocess.DEVNULL)
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    for i in range(a.studies):
        c = cases[i % len(cases)]
        subprocess.run(["cp", "-al", os.path.join(src, c), os.path.join(root, f"s{i:03d}-{c}")], check=True)
    with open(os.path.join(src, cases[0], "truth.json")) as f:
        dims = json.load(f)["grid"]["dims"]
    study_mib = dims[0] * dims[1] * dims[2] * 4 * 4 / 2**20

    out = os.path.join(work, "out")
    shutil.rmtree(out, ignore_errors=True)
    args = [binary, "batch", root, "--out", out, "--quiet"]
    if a.threads:
        args += ["--threads", str(a.threads)]
    load_before = loadavg()
    wall, cpu, rss, code, err = timed(args)
    load_after = loadavg()

    rows = list(csv.DictReader(open(os.path.join(out, "summary.csv"))))
    ok = sum(r["status"] == "ok" for r in rows)
    totals = []
    for r in rows:
        try:
            with open(os.path.join(out, r["study"], "report.json")) as f:
                t = json.load(f).get("timings") or {}
            if t.get("total_s") is not None:
                totals.append(t["total_s"])
        except OSError:
            pass
    summary = {
        "studies": a.studies, "ok": ok, "exit": code, "wall_s": wall, "cpu_s": cpu, "rss_mib": rss,
        "study_mib_f32": study_mib, "rss_per_study": rss / study_mib,
        "studies_per_min": 60.0 * a.studies / wall, "cpu_s_per_study": cpu / a.studies,
        "study_total_s_median": statistics.median(totals) if totals else None,
        "load_before": load_before, "load_after": load_after, "cpus": os.cpu_count(),
    }
    print(f"{a.studies} small studies ({dims[0]}×{dims[1]}×{dims[2]} × 4 phases = {study_mib:.0f} MiB "
          f"as f32 each), load {load_before} → {load_after}")
    print(f"exit {code}, {ok}/{len(rows)} ok; wall {wall:.1f} s ({summary['studies_per_min']:.1f} studies/min), "
          f"CPU {cpu:.1f} s ({summary['cpu_s_per_study']:.2f} s/study, CPU/wall {cpu / wall:.2f}), "
          f"peak RSS {rss:.0f} MiB = {rss / study_mib:.2f}× one study's voxels as f32; "
          f"report timings total_s median {summary['study_total_s_median']}")
    if code != 0:
        print(err[-1000:], file=sys.stderr)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(summary, f, indent=2)
    sys.exit(0 if code == 0 and ok == a.studies else 1)


if __name__ == "__main__":
    main()
