//! Scoring a report-v1 `report.json` against a phantom `truth.json`, and the benchmark
//! table built from many such scores.
//!
//! [`score`] works on the report as JSON, so a report written by any tool that follows
//! `shared/spec/report-v1.md` can be scored, not only cavascope's own. The checks are the
//! ones the end-to-end tests make (`crates/cli/tests/analyze_phantom.rs` calls this):
//! schema, every sign state, the top diagnosis, the series roles, the IVC peak equivalent
//! diameter and the mass volume. `cavascope score` prints them; `cavascope bench` tabulates
//! them over the phantom suite ([`BenchRow`], [`write_csv`], [`table`]).

#![warn(missing_docs)]

use cavascope_phantom::Truth;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Largest accepted error of the IVC peak equivalent diameter, mm: about 1.5 voxels of the
/// small phantom grid (2 mm) and of a clinical 2.5 mm slice, the partial-volume limit of a
/// contour on either.
pub const IVC_DIAMETER_TOLERANCE_MM: f64 = 3.0;
/// Largest accepted relative error of the mass volume: inter-reader variability of manual
/// soft-tissue sarcoma volumetry is of this order (the e2e tests' tolerance).
pub const MASS_VOLUME_TOLERANCE: f64 = 0.25;

/// Errors reading the inputs of a score or writing a benchmark.
#[derive(Debug, Error)]
pub enum BenchError {
    /// A file could not be read.
    #[error("{path}: cannot read: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A report is not JSON.
    #[error("{path}: not JSON: {reason}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        reason: String,
    },
    /// A truth file is not a phantom's truth.json.
    #[error("{path}: not a phantom truth.json: {reason}")]
    Truth {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        reason: String,
    },
    /// An output could not be written.
    #[error("{path}: cannot write: {reason}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// One check of a report against the truth.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    /// Short name, e.g. `sign dilated_ivc`, `top_diagnosis`, `ivc_max_diameter`.
    pub name: String,
    /// Whether the report agrees with the truth.
    pub pass: bool,
    /// What was found against what was expected.
    pub detail: String,
}

impl Check {
    fn new(name: impl Into<String>, pass: bool, detail: impl Into<String>) -> Self {
        Check {
            name: name.into(),
            pass,
            detail: detail.into(),
        }
    }
}

/// Every check of `report` (report-v1 JSON) against `truth`, in a fixed order, with the
/// IVC peak diameter within [`IVC_DIAMETER_TOLERANCE_MM`].
pub fn score(report: &Value, truth: &Truth) -> Vec<Check> {
    score_with(report, truth, IVC_DIAMETER_TOLERANCE_MM)
}

/// [`score`] with the IVC peak-diameter tolerance given (mm): a test that holds one run to
/// a tighter target, or a known gap to its regression bound.
pub fn score_with(report: &Value, truth: &Truth, ivc_diameter_tol_mm: f64) -> Vec<Check> {
    let mut out = Vec::new();
    let errs = cavascope_report::schema::validate(&cavascope_report::schema::schema(), report);
    out.push(Check::new(
        "schema",
        errs.is_empty(),
        if errs.is_empty() {
            "valid report-v1".to_string()
        } else {
            errs.join("; ")
        },
    ));
    let empty = vec![];
    let signs = report["signs"].as_array().unwrap_or(&empty);
    for (id, want) in &truth.expected_signs {
        let got = signs.iter().find(|s| s["id"] == id.as_str());
        let c = match got {
            Some(s) => {
                let st = s["state"].as_str().unwrap_or("?");
                let ex = s["explanation"].as_str().unwrap_or("");
                if st == want {
                    Check::new(format!("sign {id}"), true, st)
                } else {
                    Check::new(format!("sign {id}"), false, format!("{st}, truth {want}: {ex}"))
                }
            }
            None => Check::new(format!("sign {id}"), false, format!("missing, truth {want}")),
        };
        out.push(c);
    }
    let top = top_diagnosis(report).unwrap_or("none");
    out.push(Check::new(
        "top_diagnosis",
        top == truth.expected_top_diagnosis,
        if top == truth.expected_top_diagnosis {
            top.to_string()
        } else {
            format!(
                "{top}, truth {} ({})",
                truth.expected_top_diagnosis, report["differential"]
            )
        },
    ));
    // Counted, so a report listing no signs or no series cannot pass by having nothing
    // to compare.
    out.push(Check::new(
        "sign_count",
        signs.len() == truth.expected_signs.len(),
        format!("{} signs, truth {}", signs.len(), truth.expected_signs.len()),
    ));
    let mut with_role = 0;
    for s in report["series"].as_array().unwrap_or(&empty) {
        let uid = s["series_instance_uid"].as_str().unwrap_or("");
        if let Some(want) = truth.role_of(uid) {
            with_role += 1;
            let got = s["role"].as_str().unwrap_or("null");
            out.push(Check::new(
                format!("role {uid}"),
                got == want,
                if got == want {
                    got.to_string()
                } else {
                    format!("{got}, truth {want}")
                },
            ));
        }
    }
    out.push(Check::new(
        "role_count",
        with_role == truth.series_roles.len(),
        format!(
            "{with_role} report series have a truth role, truth lists {}",
            truth.series_roles.len()
        ),
    ));
    let want_d = truth.ivc.max_equivalent_diameter_mm;
    let c = match ivc_diameter_error_mm(report, truth) {
        Some(e) if e.abs() <= ivc_diameter_tol_mm => {
            Check::new("ivc_max_diameter", true, format!("error {e:+.2} mm"))
        }
        other => Check::new(
            "ivc_max_diameter",
            false,
            format!(
                "{:?} mm, truth {want_d:.1} ± {ivc_diameter_tol_mm} mm",
                report["ivc"]["max_equivalent_diameter_mm"].as_f64().or(other)
            ),
        ),
    };
    out.push(c);
    let got_v = report["mass"]["volume_ml"].as_f64();
    let c = match (&truth.mass, got_v) {
        (None, None) => Check::new("mass_volume", true, "no mass, none reported"),
        (Some(m), Some(v)) if (v - m.volume_ml).abs() <= MASS_VOLUME_TOLERANCE * m.volume_ml => Check::new(
            "mass_volume",
            true,
            format!("{v:.1} ml, truth {:.1} ml", m.volume_ml),
        ),
        (m, v) => Check::new(
            "mass_volume",
            false,
            format!(
                "{v:?} ml, truth {:?} ml ± {:.0} %",
                m.as_ref().map(|m| m.volume_ml),
                MASS_VOLUME_TOLERANCE * 100.0
            ),
        ),
    };
    out.push(c);
    out
}

/// The diagnosis at the top of the differential.
pub fn top_diagnosis(report: &Value) -> Option<&str> {
    report["differential"][0]["diagnosis"].as_str()
}

/// Reported minus true IVC peak equivalent diameter, mm.
pub fn ivc_diameter_error_mm(report: &Value, truth: &Truth) -> Option<f64> {
    report["ivc"]["max_equivalent_diameter_mm"]
        .as_f64()
        .map(|d| d - truth.ivc.max_equivalent_diameter_mm)
}

/// Relative error of the mass volume ((reported − true) / true); `None` without both.
pub fn mass_volume_error(report: &Value, truth: &Truth) -> Option<f64> {
    let v = report["mass"]["volume_ml"].as_f64()?;
    let t = truth.mass.as_ref()?.volume_ml;
    (t > 0.0).then(|| (v - t) / t)
}

/// Read a report.json as JSON (any tool's).
pub fn read_report(path: &Path) -> Result<Value, BenchError> {
    let text = std::fs::read_to_string(path).map_err(|source| BenchError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|e| BenchError::Json {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// Read a phantom truth.json.
pub fn read_truth(path: &Path) -> Result<Truth, BenchError> {
    let text = std::fs::read_to_string(path).map_err(|source| BenchError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|e| BenchError::Truth {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// One study of a benchmark run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchRow {
    /// The phantom case.
    pub case: String,
    /// The phantom draw.
    pub seed: u64,
    /// Checks that passed.
    pub checks_passed: usize,
    /// Checks made.
    pub checks_total: usize,
    /// Every check passed (the e2e tests' verdict).
    pub pass: bool,
    /// Largest IVC equivalent diameter, reported − truth, mm.
    pub ivc_diameter_error_mm: Option<f64>,
    /// Mass volume, (reported − truth) / truth.
    pub mass_volume_error: Option<f64>,
    /// The most probable diagnosis reported.
    pub top_diagnosis: Option<String>,
    /// The phantom's expected top diagnosis.
    pub expected_top_diagnosis: String,
    /// sign id → state reported.
    pub sign_states: std::collections::BTreeMap<String, String>,
    /// Wall-clock time of the analysis, s.
    pub seconds: f64,
    /// The checks that failed, or why the study could not be analysed.
    pub failures: Vec<String>,
}

impl BenchRow {
    /// A row from a report and its truth.
    pub fn from_report(report: &Value, truth: &Truth, seconds: f64) -> BenchRow {
        let checks = score(report, truth);
        let sign_states = report["signs"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| Some((s["id"].as_str()?.to_string(), s["state"].as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        BenchRow {
            case: truth.case.as_str().to_string(),
            seed: truth.seed,
            checks_passed: checks.iter().filter(|c| c.pass).count(),
            checks_total: checks.len(),
            pass: checks.iter().all(|c| c.pass),
            ivc_diameter_error_mm: ivc_diameter_error_mm(report, truth),
            mass_volume_error: mass_volume_error(report, truth),
            top_diagnosis: top_diagnosis(report).map(str::to_string),
            expected_top_diagnosis: truth.expected_top_diagnosis.clone(),
            sign_states,
            seconds,
            failures: checks
                .iter()
                .filter(|c| !c.pass)
                .map(|c| format!("{}: {}", c.name, c.detail))
                .collect(),
        }
    }

    /// A row for a study that could not be analysed: every check counts as failed.
    pub fn failed(truth: &Truth, seconds: f64, reason: &str) -> BenchRow {
        // schema + signs + sign count + top diagnosis + roles + role count + calibre +
        // volume, as `score` counts them.
        let total = 6 + truth.expected_signs.len() + truth.series_roles.len();
        BenchRow {
            case: truth.case.as_str().to_string(),
            seed: truth.seed,
            checks_passed: 0,
            checks_total: total,
            pass: false,
            ivc_diameter_error_mm: None,
            mass_volume_error: None,
            top_diagnosis: None,
            expected_top_diagnosis: truth.expected_top_diagnosis.clone(),
            sign_states: Default::default(),
            seconds,
            failures: vec![format!("not analysed: {reason}")],
        }
    }
}

fn opt(x: Option<f64>, digits: usize) -> String {
    x.map(|v| format!("{v:.digits$}")).unwrap_or_default()
}

/// The benchmark as CSV: one row per study; sign states as `id=state` joined by `;`.
pub fn csv_bytes(rows: &[BenchRow]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "case",
        "seed",
        "pass",
        "checks_passed",
        "checks_total",
        "ivc_diameter_error_mm",
        "mass_volume_error",
        "top_diagnosis",
        "expected_top_diagnosis",
        "seconds",
        "sign_states",
        "failures",
    ])?;
    for r in rows {
        let signs: Vec<String> = r.sign_states.iter().map(|(k, v)| format!("{k}={v}")).collect();
        w.write_record([
            r.case.clone(),
            r.seed.to_string(),
            r.pass.to_string(),
            r.checks_passed.to_string(),
            r.checks_total.to_string(),
            opt(r.ivc_diameter_error_mm, 3),
            opt(r.mass_volume_error, 4),
            r.top_diagnosis.clone().unwrap_or_default(),
            r.expected_top_diagnosis.clone(),
            format!("{:.2}", r.seconds),
            signs.join(";"),
            r.failures.join(" | "),
        ])?;
    }
    w.into_inner().map_err(|e| e.into_error().into())
}

/// The printed table: one line per study and a total line.
pub fn table(rows: &[BenchRow]) -> String {
    let mut s = format!(
        "{:<26} {:>5} {:>7} {:>9} {:>9} {:<30} {:>7}  {}\n",
        "case", "seed", "checks", "ivc_d_mm", "mass_vol", "top diagnosis", "s", "verdict"
    );
    for r in rows {
        s.push_str(&format!(
            "{:<26} {:>5} {:>7} {:>9} {:>9} {:<30} {:>7.1}  {}\n",
            r.case,
            r.seed,
            format!("{}/{}", r.checks_passed, r.checks_total),
            r.ivc_diameter_error_mm
                .map(|e| format!("{e:+.2}"))
                .unwrap_or_else(|| "-".into()),
            r.mass_volume_error
                .map(|e| format!("{:+.1}%", 100.0 * e))
                .unwrap_or_else(|| "-".into()),
            r.top_diagnosis.as_deref().unwrap_or("-"),
            r.seconds,
            if r.pass { "pass" } else { "FAIL" }
        ));
    }
    let passed = rows.iter().filter(|r| r.pass).count();
    let checks: usize = rows.iter().map(|r| r.checks_passed).sum();
    let total: usize = rows.iter().map(|r| r.checks_total).sum();
    let secs: f64 = rows.iter().map(|r| r.seconds).sum();
    s.push_str(&format!(
        "{passed}/{} studies pass, {checks}/{total} checks, {:.1} s per study\n",
        rows.len(),
        if rows.is_empty() {
            0.0
        } else {
            secs / rows.len() as f64
        }
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use cavascope_phantom::{generate, CaseName, PhantomOptions};

    /// A report that says exactly what the truth says, built from the truth itself.
    fn perfect(t: &Truth) -> Value {
        let signs: Vec<Value> = t
            .expected_signs
            .iter()
            .map(|(id, st)| serde_json::json!({"id": id, "state": st, "explanation": ""}))
            .collect();
        serde_json::json!({
            "signs": signs,
            "differential": [{"diagnosis": t.expected_top_diagnosis, "score": 0.9}],
            "series": t.series_roles.iter().map(|(u, r)| serde_json::json!({"series_instance_uid": u, "role": r})).collect::<Vec<_>>(),
            "ivc": {"max_equivalent_diameter_mm": t.ivc.max_equivalent_diameter_mm + 1.0},
            "mass": t.mass.as_ref().map(|m| serde_json::json!({"volume_ml": m.volume_ml * 1.1})),
        })
    }

    #[test]
    fn checks_follow_the_truth_and_catch_each_error() {
        let t = generate(CaseName::IvcLeiomyosarcoma, &PhantomOptions::small()).truth;
        let r = perfect(&t);
        let c = score(&r, &t);
        // The hand-built report is not schema-complete; every other check passes.
        assert!(c.iter().filter(|c| c.name != "schema").all(|c| c.pass), "{c:?}");
        // schema, top diagnosis, IVC calibre, mass volume, sign and role counts + one per
        // sign and role.
        assert_eq!(c.len(), 6 + t.expected_signs.len() + t.series_roles.len());
        let row = BenchRow::from_report(&r, &t, 1.0);
        assert!((row.ivc_diameter_error_mm.unwrap() - 1.0).abs() < 1e-9);
        assert!((row.mass_volume_error.unwrap() - 0.1).abs() < 1e-9);

        let failing = |r: &Value, name: &str| {
            score(r, &t)
                .into_iter()
                .find(|c| c.name.starts_with(name))
                .map(|c| !c.pass)
                .unwrap_or(false)
        };
        let mut bad = r.clone();
        bad["ivc"]["max_equivalent_diameter_mm"] = (t.ivc.max_equivalent_diameter_mm + 3.5).into();
        assert!(failing(&bad, "ivc_max_diameter"));
        let mut bad = r.clone();
        bad["mass"]["volume_ml"] = (t.mass.as_ref().unwrap().volume_ml * 1.3).into();
        assert!(failing(&bad, "mass_volume"));
        let mut bad = r.clone();
        bad["differential"][0]["diagnosis"] = "no_mass".into();
        assert!(failing(&bad, "top_diagnosis"));
        let mut bad = r.clone();
        bad["signs"][0]["state"] = "indeterminate".into();
        assert!(failing(&bad, "sign "));
        let mut bad = r.clone();
        bad["series"][0]["role"] = "not_a_role".into();
        assert!(failing(&bad, "role "));
        let csv = String::from_utf8(csv_bytes(std::slice::from_ref(&row)).unwrap()).unwrap();
        assert_eq!(csv.lines().count(), 2);
        assert!(table(&[row]).contains("ivc_leiomyosarcoma"));
    }
}
