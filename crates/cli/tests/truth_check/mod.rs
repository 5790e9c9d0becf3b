//! The checks of a report.json against a phantom's truth.json, shared by the end-to-end
//! tests (`analyze_phantom`, and `listen_pacs` for studies received over DICOM).

use cavascope_phantom::Truth;
use serde_json::Value;
use std::path::Path;

/// Everything in `r` that disagrees with the truth, one line each.
pub fn compare(label: &str, r: &Value, t: &Truth, out: &Path) -> Vec<String> {
    let mut bad = Vec::new();
    let errs = cavascope_report::schema::validate(&cavascope_report::schema::schema(), r);
    for e in errs {
        bad.push(format!("{label}: schema: {e}"));
    }
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
    let empty = vec![];
    let signs = r["signs"].as_array().unwrap_or(&empty);
    for (id, want) in &t.expected_signs {
        let got = signs.iter().find(|s| s["id"] == id.as_str()).map(|s| {
            (
                s["state"].as_str().unwrap_or("?"),
                s["explanation"].as_str().unwrap_or(""),
            )
        });
        match got {
            Some((st, _)) if st == want => {}
            Some((st, ex)) => bad.push(format!("{label}: {id} = {st}, truth {want}: {ex}")),
            None => bad.push(format!("{label}: {id} missing")),
        }
    }
    let top = r["differential"][0]["diagnosis"].as_str().unwrap_or("none");
    if top != t.expected_top_diagnosis {
        bad.push(format!(
            "{label}: top diagnosis {top}, truth {} ({})",
            t.expected_top_diagnosis, r["differential"]
        ));
    }
    for s in r["series"].as_array().unwrap_or(&empty) {
        let uid = s["series_instance_uid"].as_str().unwrap_or("");
        if let Some(want) = t.role_of(uid) {
            if s["role"].as_str() != Some(want) {
                bad.push(format!("{label}: series {uid} role {}, truth {want}", s["role"]));
            }
        }
    }
    match r["ivc"]["max_equivalent_diameter_mm"].as_f64() {
        Some(d) if (d - t.ivc.max_equivalent_diameter_mm).abs() <= 3.0 => {}
        other => bad.push(format!(
            "{label}: IVC max equivalent diameter {other:?}, truth {:.1} ± 3 mm",
            t.ivc.max_equivalent_diameter_mm
        )),
    }
    match (&t.mass, r["mass"]["volume_ml"].as_f64()) {
        (None, None) => {}
        (Some(m), Some(v)) if (v - m.volume_ml).abs() <= 0.25 * m.volume_ml => {}
        (m, v) => bad.push(format!(
            "{label}: mass volume {v:?} ml, truth {:?} ml ± 25%",
            m.as_ref().map(|m| m.volume_ml)
        )),
    }
    bad
}
