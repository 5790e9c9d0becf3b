//! The checks of a report.json against a phantom's truth.json, shared by the end-to-end
//! tests (`analyze_phantom`, and `listen_pacs` for studies received over DICOM): the
//! checks of `cavascope score` (the `cavascope-bench` library) and the report's files.

#![allow(dead_code)]

use cavascope_phantom::Truth;
use serde_json::Value;
use std::path::Path;

/// Everything in `r` that disagrees with the truth, one line each, with the IVC peak
/// within `cavascope score`'s tolerance.
pub fn compare(label: &str, r: &Value, t: &Truth, out: &Path) -> Vec<String> {
    compare_with(label, r, t, out, cavascope_bench::IVC_DIAMETER_TOLERANCE_MM)
}

/// [`compare`] with the IVC peak within `peak_tol_mm`.
pub fn compare_with(label: &str, r: &Value, t: &Truth, out: &Path, peak_tol_mm: f64) -> Vec<String> {
    let mut bad: Vec<String> = cavascope_bench::score_with(r, t, peak_tol_mm)
        .into_iter()
        .filter(|c| !c.pass)
        .map(|c| format!("{label}: {}: {}", c.name, c.detail))
        .collect();
    for f in [
        "report.html",
        "measurements.csv",
        "curves.png",
        "overlays/axial.png",
        "overlays/coronal.png",
        "overlays/sagittal.png",
    ] {
        if !out.join(f).is_file() {
            bad.push(format!("{label}: {f} missing"));
        }
    }
    bad
}
