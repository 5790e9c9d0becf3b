#!/usr/bin/env python3
"""Whole-analysis benchmark (issue 19): one phantom study generated once, `cavascope
analyze` timed on it — wall, CPU (user + system) and peak RSS of the process from
`wait4` (the numbers `/usr/bin/time -v` prints), and every stage from report.json's
`timings` — and, with a baseline binary, the two interleaved (base, new, base, new, …)
and their report.json compared field by field (timings, tool version and input path
aside; numbers within --tol).

    python3 benches/analyze_bench.py NEW_BIN [--base BASE_BIN] [--runs 3]
        [--size clinical] [--slices N] [--case ivc_leiomyosarcoma] [--work DIR]
        [--tol 1e-9] [--json OUT.json]

Default study: `--size clinical`, the 4-phase CT leiomyosarcoma at 512 × 512 × 300
(0.75 mm pixels, 1 mm slices). Medians over --runs; the load average before and after
is printed (this project's machine is shared: CPU seconds are the steadier figure).
Exit status 1 when a run fails or the reports differ.
"""
import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import time

STAGES = ["ingest_s", "phases_s", "ivc_s", "mass_s", "collaterals_s", "features_s", "report_s", "total_s"]
IGNORED = {("tool",), ("input", "path"), ("timings",)}


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def timed(args):
    """Run `args`: (wall s, user+sys s, peak RSS MiB, exit code, stderr text)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024.0, os.waitstatus_to_exitcode(status), err


def run_analyze(binary, study, out, threads):
    """One `analyze`: (wall s, user+sys s, peak RSS MiB, report dict)."""
    shutil.rmtree(out, ignore_errors=True)
    args = [binary, "analyze", study, "--out", out, "--quiet"]
    if threads:
        args += ["--threads", str(threads)]
    wall, cpu, rss, code, err = timed(args)
    if code != 0:
        raise RuntimeError(f"{binary} analyze exited {code}: {err[-500:]}")
    with open(os.path.join(out, "report.json")) as f:
        report = json.load(f)
    return wall, cpu, rss, report


def diff(a, b, path, out, tol):
    if tuple(k for k in path if isinstance(k, str)) in IGNORED:
        return
    where = "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in path)
    if isinstance(a, bool) or isinstance(b, bool):
        if a != b:
            out.append(f"{where}: {a!r} != {b!r}")
    elif isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if not (a == b or math.isclose(a, b, rel_tol=tol, abs_tol=tol)):
            out.append(f"{where}: {a!r} != {b!r}")
    elif isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if tuple(x for x in path + (k,) if isinstance(x, str)) in IGNORED:
                continue
            if k not in a or k not in b:
                out.append(f"{where}.{k}: only in {'base' if k in a else 'new'}")
            else:
                diff(a[k], b[k], path + (k,), out, tol)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append(f"{where}: length {len(a)} != {len(b)}")
        for i, (x, y) in enumerate(zip(a, b)):
            diff(x, y, path + (i,), out, tol)
    elif a != b:
        out.append(f"{where}: {a!r} != {b!r}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("new_bin")
    ap.add_argument("--base")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--size", default="clinical")
    ap.add_argument("--slices", type=int)
    ap.add_argument("--case", default="ivc_leiomyosarcoma")
    ap.add_argument("--work", default="target/analyze-bench")
    ap.add_argument("--threads", type=int)
    ap.add_argument("--tol", type=float, default=1e-9)
    ap.add_argument("--json")
    a = ap.parse_args()

    work = os.path.abspath(a.work)
    name = f"{a.case}-{a.size}" + (f"-{a.slices}" if a.slices else "")
    study = os.path.join(work, "studies", name)
    # The new binary generates: the baseline may predate `--size clinical`/`--slices`.
    gen_bin = os.path.abspath(a.new_bin)
    if not os.path.isfile(os.path.join(study, "truth.json")):
        shutil.rmtree(study, ignore_errors=True)
        cmd = [gen_bin, "phantom", "--case", a.case, "--size", a.size, "--out", study]
        if a.slices:
            cmd += ["--slices", str(a.slices)]
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        print(f"generated {study} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    with open(os.path.join(study, "truth.json")) as f:
        truth = json.load(f)
    dims = truth["grid"]["dims"]
    phases = len(truth.get("series", [])) or 4
    study_mib = dims[0] * dims[1] * dims[2] * phases * 4 / 2**20

    bins = [("new", os.path.abspath(a.new_bin))]
    if a.base:
        bins.insert(0, ("base", os.path.abspath(a.base)))
    rows = {label: [] for label, _ in bins}
    reports = {}
    load_before = loadavg()
    fail = 0
    for i in range(a.runs):
        for label, b in bins:
            out = os.path.join(work, "out", f"{name}-{label}")
            try:
                wall, cpu, rss, rep = run_analyze(b, study, out, a.threads)
            except RuntimeError as e:
                print(f"{label} run {i + 1}: {e}", file=sys.stderr)
                fail = 1
                continue
            reports.setdefault(label, rep)
            t = rep.get("timings") or {}
            rows[label].append({"wall_s": wall, "cpu_s": cpu, "rss_mib": rss, **{k: t.get(k) for k in STAGES}})
            print(f"{label} run {i + 1}: wall {wall:.2f} s, CPU {cpu:.2f} s, peak RSS {rss:.0f} MiB "
                  f"(load {loadavg()})", file=sys.stderr)
    load_after = loadavg()

    def med(label, key):
        v = [r[key] for r in rows[label] if r.get(key) is not None]
        return statistics.median(v) if v else None

    summary = {
        "study": study,
        "dims_ijk": dims,
        "phases": phases,
        "study_mib_f32": study_mib,
        "runs": a.runs,
        "load_before": load_before,
        "load_after": load_after,
        "cpus": os.cpu_count(),
        "medians": {label: {k: med(label, k) for k in ["wall_s", "cpu_s", "rss_mib", *STAGES]} for label in rows},
        "runs_all": rows,
    }
    print(f"\n{name}: {dims[0]}×{dims[1]}×{dims[2]} × {phases} phases = {study_mib:.0f} MiB as f32; "
          f"{a.runs} runs; load {load_before} → {load_after}")
    fmt = lambda v, p=2: "-" if v is None else f"{v:.{p}f}"
    print("| binary | wall (s) | CPU (s) | CPU/wall | peak RSS (MiB) | RSS / study | "
          + " | ".join(s[:-2] for s in STAGES) + " |")
    print("|---" * (6 + len(STAGES)) + "|")
    for label in rows:
        m = summary["medians"][label]
        ratio = m["cpu_s"] / m["wall_s"] if m["wall_s"] else None
        rss_ratio = m["rss_mib"] / study_mib if m["rss_mib"] else None
        print(f"| {label} | {fmt(m['wall_s'])} | {fmt(m['cpu_s'])} | {fmt(ratio)} | {fmt(m['rss_mib'], 0)} | "
              f"{fmt(rss_ratio)} | " + " | ".join(fmt(m[s]) for s in STAGES) + " |")
    if "base" in reports and "new" in reports:
        out = []
        diff(reports["base"], reports["new"], (), out, a.tol)
        summary["report_differences"] = out
        if out:
            fail = 1
            print(f"report.json DIFFERS in {len(out)} fields (tolerance {a.tol:g}):")
            for line in out[:20]:
                print("    " + line)
        else:
            print(f"report.json identical, base vs new (tolerance {a.tol:g}; timings, tool, input path aside)")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(summary, f, indent=2)
    sys.exit(fail)


if __name__ == "__main__":
    main()
