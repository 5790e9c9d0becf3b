//! docs/signs.md and the code must carry the same thresholds and likelihoods.

use cavascope_features::{Thresholds, DIAGNOSES, LIKELIHOODS};

fn doc() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/signs.md")).unwrap()
}

/// The first number in a table cell ("1/1.9 = 0.526" → the value after `=`).
fn cell_number(c: &str) -> Option<f64> {
    let c = c.rsplit('=').next()?.trim();
    c.split_whitespace().next()?.parse().ok()
}

#[test]
fn thresholds_table_matches_code() {
    let d = doc();
    let defaults = serde_json::to_value(Thresholds::default()).unwrap();
    let map = defaults.as_object().unwrap();
    for (key, v) in map {
        let want = v.as_f64().unwrap();
        let row = d
            .lines()
            .find(|l| l.starts_with(&format!("| `{key}` |")))
            .unwrap_or_else(|| panic!("docs/signs.md has no row for `{key}`"));
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let got = cell_number(cells[2]).unwrap_or_else(|| panic!("row `{key}`: no number"));
        assert!((got - want).abs() < 1e-3, "`{key}`: docs {got}, code {want}");
    }
}

#[test]
fn likelihood_table_matches_code() {
    let d = doc();
    assert_eq!(DIAGNOSES.len(), 6);
    for row in LIKELIHOODS {
        // The likelihood row is the one whose next six cells are numbers.
        let cells: Vec<f64> = d
            .lines()
            .filter(|l| l.starts_with(&format!("| `{}` |", row.evidence)))
            .find_map(|l| {
                l.split('|')
                    .skip(2)
                    .take(6)
                    .map(|c| c.trim().parse::<f64>().ok())
                    .collect::<Option<Vec<f64>>>()
            })
            .unwrap_or_else(|| panic!("docs/signs.md has no likelihood row for {}", row.evidence));
        for (a, b) in cells.iter().zip(row.p.iter()) {
            assert!(
                (a - b).abs() < 1e-9,
                "{}: docs {cells:?}, code {:?}",
                row.evidence,
                row.p
            );
        }
    }
}
