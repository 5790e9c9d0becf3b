#!/usr/bin/env python3
"""Vesselness: cavascope against ITK's HessianToObjectnessMeasureImageFilter, same input,
same scales, in one run.

Runs the Rust example `vesselness_bench` (phantom portal-venous CT, cropped), then ITK's
MultiScaleHessianBasedMeasureImageFilter + HessianToObjectnessMeasureImageFilter
(alpha 0.5, beta 0.5, gamma 5, bright, ObjectDimension 1, scale by |lambda3|, the same
sigmas, non-negative measure) on the very same voxels and spacing; reports both times
(median of 3) and the Pearson and Spearman correlations of the two outputs over the
voxels where either responds. Needs `pip install itk-filtering` (PyPI `itk`).

Usage: python3 benches/compare_itk_vesselness.py [COLS ROWS SLICES]
"""
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np


def cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main():
    size = sys.argv[1:4] if len(sys.argv) >= 4 else ["256", "256", "100"]
    out = tempfile.mkdtemp(prefix="vesselness-bench-")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    subprocess.run(
        ["cargo", "run", "--release", "-q", "-p", "cavascope-imaging", "--example", "vesselness_bench", "--", out, *size],
        cwd=root,
        check=True,
    )
    meta = json.load(open(os.path.join(out, "meta.json")))
    k, j, i = meta["dims_kji"]
    data = np.fromfile(os.path.join(out, "input.f32"), dtype="<f4").reshape(k, j, i)
    ours = np.fromfile(os.path.join(out, "ours.f32"), dtype="<f4").reshape(k, j, i)

    import itk

    image = itk.image_from_array(np.ascontiguousarray(data))
    image.SetSpacing([float(s) for s in meta["spacing_ijk"]])
    ImageType = type(image)
    HessianPixel = itk.SymmetricSecondRankTensor[itk.D, 3]
    HessianImage = itk.Image[HessianPixel, 3]
    objectness = itk.HessianToObjectnessMeasureImageFilter[HessianImage, ImageType].New()
    objectness.SetAlpha(meta["alpha"])
    objectness.SetBeta(meta["beta"])
    objectness.SetGamma(meta["gamma"])
    objectness.SetBrightObject(True)
    objectness.SetObjectDimension(1)
    objectness.SetScaleObjectnessMeasure(True)
    sig = meta["sigmas_mm"]
    times = []
    cpus = []
    result = None
    for _ in range(3):
        ms = itk.MultiScaleHessianBasedMeasureImageFilter[ImageType, HessianImage, ImageType].New()
        ms.SetInput(image)
        ms.SetHessianToMeasureFilter(objectness)
        ms.SetSigmaMinimum(sig[0])
        ms.SetSigmaMaximum(sig[-1])
        ms.SetNumberOfSigmaSteps(len(sig))
        ms.SetSigmaStepMethodToLogarithmic()
        ms.SetNonNegativeHessianBasedMeasure(True)
        t = time.perf_counter()
        c = cpu_seconds()
        ms.Update()
        times.append(time.perf_counter() - t)
        cpus.append(cpu_seconds() - c)
        result = itk.array_from_image(ms.GetOutput())
    times.sort()
    cpus.sort()
    itk_s = times[1]
    ours_s = meta["seconds_median"]
    mask = (ours > 0) | (result > 0)
    a, b = ours[mask].astype(np.float64), result[mask].astype(np.float64)
    pearson = float(np.corrcoef(a, b)[0, 1]) if a.size > 2 else float("nan")
    ra = np.argsort(np.argsort(a))
    rb = np.argsort(np.argsort(b))
    spearman = float(np.corrcoef(ra, rb)[0, 1]) if a.size > 2 else float("nan")
    ratio = float(np.median(b[b > 0]) / np.median(a[a > 0])) if (a > 0).any() and (b > 0).any() else float("nan")
    report = {
        "volume_kji": [k, j, i],
        "spacing_ijk_mm": meta["spacing_ijk"],
        "sigmas_mm": sig,
        "threads_ours": meta["threads"],
        "itk_threads": itk.MultiThreaderBase.GetGlobalDefaultNumberOfThreads(),
        "itk_version": itk.Version.GetITKVersion(),
        "seconds_ours": ours_s,
        "seconds_itk": itk_s,
        "speedup": itk_s / ours_s,
        # CPU seconds (user + system, both threads) are the steadier measure on a loaded
        # machine: load stretches wall time, not the work done.
        "cpu_seconds_ours": meta.get("cpu_seconds_median"),
        "cpu_seconds_itk": cpus[1],
        "cpu_speedup": cpus[1] / meta["cpu_seconds_median"] if meta.get("cpu_seconds_median") else None,
        "pearson": pearson,
        "spearman": spearman,
        "median_ratio_itk_over_ours": ratio,
        "voxels_compared": int(mask.sum()),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
