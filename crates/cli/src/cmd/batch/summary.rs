//! `summary.csv`: one row per study, read back from each study's `report.json` so that a
//! resumed or merged batch summarises exactly what is on disk.

use serde_json::Value;
use std::path::Path;

/// The signs of report schema v1, in the order of `shared/spec/report-v1.md`.
fn sign_ids() -> impl Iterator<Item = &'static str> {
    cavascope_features::ALL_SIGNS.iter().map(|s| s.as_str())
}

/// Key measurements: (column, JSON pointer into report.json).
const MEASURES: [(&str, &str); 11] = [
    ("ivc_length_mm", "/ivc/length_mm"),
    (
        "ivc_max_equivalent_diameter_mm",
        "/ivc/max_equivalent_diameter_mm",
    ),
    (
        "ivc_min_equivalent_diameter_mm",
        "/ivc/min_equivalent_diameter_mm",
    ),
    ("ivc_min_flattening_ratio", "/ivc/min_flattening_ratio"),
    (
        "ivc_longest_imperceptible_mm",
        "/ivc/lumen/longest_imperceptible_mm",
    ),
    ("mass_volume_ml", "/mass/volume_ml"),
    ("mass_max_diameter_mm", "/mass/max_diameter_mm"),
    ("mass_ivc_segment", "/mass/ivc_segment"),
    ("mass_contact_arc_deg", "/mass/contact_arc_deg"),
    ("mass_pattern", "/mass/pattern"),
    ("collaterals_volume_ml", "/collaterals/volume_ml"),
];

/// Outcome of one study in this batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Analysed now.
    Ok,
    /// A complete report was already there (`--resume`).
    Resumed,
    Failed,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            // A resumed study is as done as one analysed now (its `seconds` is empty), so
            // the summary of a merging `--resume` run equals that of one unsharded run.
            Status::Ok | Status::Resumed => "ok",
            Status::Failed => "failed",
        }
    }
}

/// One row of the summary.
#[derive(Debug, Clone)]
pub struct Row {
    pub study: String,
    pub input: String,
    pub status: Status,
    pub error: String,
    pub seconds: Option<f64>,
    /// The study's report, when one could be read.
    pub report: Option<Value>,
}

pub fn header() -> Vec<String> {
    let mut h: Vec<String> = [
        "study",
        "input",
        "status",
        "error",
        "files_scanned",
        "files_used",
        "files_skipped",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    h.extend(MEASURES.iter().map(|(c, _)| c.to_string()));
    h.extend(sign_ids().map(|s| format!("sign_{s}")));
    h.extend(["top_diagnosis", "top_score", "warnings", "seconds"].map(String::from));
    h
}

fn cell(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(other) => other.to_string(),
    }
}

impl Row {
    pub fn cells(&self) -> Vec<String> {
        let r = self.report.as_ref();
        let at = |ptr: &str| cell(r.and_then(|r| r.pointer(ptr)));
        let skipped = r
            .and_then(|r| r.pointer("/input/files_skipped"))
            .and_then(Value::as_array)
            .map(|a| a.len().to_string())
            .unwrap_or_default();
        let mut c = vec![
            self.study.clone(),
            self.input.clone(),
            self.status.as_str().to_string(),
            self.error.clone(),
            at("/input/files_scanned"),
            at("/input/files_used"),
            skipped,
        ];
        c.extend(MEASURES.iter().map(|(_, ptr)| at(ptr)));
        let signs = r.and_then(|r| r.get("signs")).and_then(Value::as_array);
        for id in sign_ids() {
            let state = signs
                .and_then(|s| s.iter().find(|x| x.get("id").and_then(Value::as_str) == Some(id)))
                .and_then(|x| x.get("state"));
            c.push(cell(state));
        }
        // The differential is sorted highest first (report-v1).
        c.push(at("/differential/0/diagnosis"));
        c.push(at("/differential/0/score"));
        c.push(
            r.and_then(|r| r.get("warnings"))
                .and_then(Value::as_array)
                .map(|w| w.len().to_string())
                .unwrap_or_default(),
        );
        c.push(self.seconds.map(|s| format!("{s:.2}")).unwrap_or_default());
        c
    }
}

/// A report is complete when it is a JSON object of schema version 1 listing its signs
/// and carrying no `error` (a study that could not be analysed still gets a report.json,
/// saying why). `report.json` is written by rename, so a present file is never
/// half-written; this still refuses an empty or foreign file left by something else.
pub fn read_complete_report(path: &Path) -> Option<Value> {
    let bytes = std::fs::read(path).ok()?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    let ok = v.get("schema_version").and_then(Value::as_u64) == Some(1)
        && v.get("signs").is_some_and(Value::is_array)
        && v.get("error").is_none_or(Value::is_null);
    ok.then_some(v)
}

/// The CSV text of the rows.
pub fn to_csv(rows: &[Row]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header())?;
    for r in rows {
        w.write_record(r.cells())?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_reads_report_fields() {
        let report = serde_json::json!({
            "schema_version": 1,
            "input": {"files_scanned": 10, "files_used": 8, "files_skipped": [{"path": "a", "reason": "r"}, {"path": "b", "reason": "r"}]},
            "ivc": {"max_equivalent_diameter_mm": 34.5, "lumen": {"longest_imperceptible_mm": null}},
            "mass": null,
            "signs": [{"id": "washout", "state": "absent"}, {"id": "dilated_ivc", "state": "present"}],
            "differential": [{"diagnosis": "ivc_leiomyosarcoma", "score": 0.8}, {"diagnosis": "no_mass", "score": 0.1}],
            "warnings": ["w1"]
        });
        let row = Row {
            study: "s".into(),
            input: "/in/s".into(),
            status: Status::Ok,
            error: String::new(),
            seconds: Some(1.234),
            report: Some(report),
        };
        let h = header();
        let c = row.cells();
        assert_eq!(h.len(), c.len());
        let get = |name: &str| c[h.iter().position(|x| x == name).unwrap()].clone();
        assert_eq!(get("files_skipped"), "2");
        assert_eq!(get("files_used"), "8");
        assert_eq!(get("ivc_max_equivalent_diameter_mm"), "34.5");
        assert_eq!(get("ivc_longest_imperceptible_mm"), "");
        assert_eq!(get("mass_volume_ml"), "");
        assert_eq!(get("sign_dilated_ivc"), "present");
        assert_eq!(get("sign_washout"), "absent");
        assert_eq!(get("sign_calcification"), "");
        assert_eq!(get("top_diagnosis"), "ivc_leiomyosarcoma");
        assert_eq!(get("top_score"), "0.8");
        assert_eq!(get("warnings"), "1");
        assert_eq!(get("seconds"), "1.23");
    }

    #[test]
    fn completeness() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("report.json");
        assert!(read_complete_report(&p).is_none());
        std::fs::write(&p, b"{\"schema_version\": 1, \"signs\": [").unwrap();
        assert!(read_complete_report(&p).is_none());
        std::fs::write(&p, b"{\"schema_version\": 2, \"signs\": []}").unwrap();
        assert!(read_complete_report(&p).is_none());
        std::fs::write(
            &p,
            b"{\"schema_version\": 1, \"signs\": [], \"error\": \"no volume\"}",
        )
        .unwrap();
        assert!(read_complete_report(&p).is_none());
        std::fs::write(&p, b"{\"schema_version\": 1, \"signs\": [], \"error\": null}").unwrap();
        assert!(read_complete_report(&p).is_some());
    }
}
