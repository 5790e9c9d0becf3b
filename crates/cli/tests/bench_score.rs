//! `cavascope bench` and `cavascope score`: the bench's verdicts are the e2e tests'
//! (`analyze_phantom.rs` passes every check on these cases in auto mode, seed 1, small
//! grid), `score` on a kept study agrees with the bench row line by line, and `score`
//! exits 0 on a passing pair, 1 on a corrupted one, 2 on an unreadable one.

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

fn cavascope(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cavascope"))
        .args(args)
        .output()
        .expect("run cavascope")
}

fn score(report: &Path, truth: &Path) -> Output {
    cavascope(&["score".as_ref(), report.as_os_str(), truth.as_os_str()])
}

#[test]
fn bench_verdicts_match_e2e_and_score_exit_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bench");
    let o = cavascope(&[
        "bench".as_ref(),
        "--quiet".as_ref(),
        "--cases".as_ref(),
        "normal,ivc_leiomyosarcoma".as_ref(),
        "--draws".as_ref(),
        "1".as_ref(),
        "--size".as_ref(),
        "small".as_ref(),
        "--keep-studies".as_ref(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    let table = String::from_utf8_lossy(&o.stdout);
    eprintln!("{table}{}", String::from_utf8_lossy(&o.stderr));
    let rows: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("bench.json")).unwrap()).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    // The e2e tests' verdict on both cases (auto mode, seed 1, small): every check passes.
    for r in rows {
        assert_eq!(r["pass"], true, "{}: {}", r["case"], r["failures"]);
        assert_eq!(r["checks_passed"], r["checks_total"]);
        assert_eq!(r["top_diagnosis"], r["expected_top_diagnosis"]);
        assert_eq!(r["sign_states"].as_object().unwrap().len(), 13);
        assert!(r["ivc_diameter_error_mm"].as_f64().unwrap().abs() <= 3.0);
        assert!(r["seconds"].as_f64().unwrap() > 0.0);
    }
    assert_eq!(o.status.code(), Some(0));
    assert!(table.contains("2/2 studies pass"), "{table}");
    let csv = std::fs::read_to_string(out.join("bench.csv")).unwrap();
    assert_eq!(csv.lines().count(), 3, "{csv}");
    assert!(csv.lines().nth(1).unwrap().starts_with("normal,1,true,"), "{csv}");

    // `score` on the kept study: exit 0, one line per check, as many as the bench counted.
    let dir = out.join("ivc_leiomyosarcoma-seed1");
    let report = dir.join("report/report.json");
    let truth = dir.join("study/truth.json");
    let o = score(&report, &truth);
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    assert_eq!(o.status.code(), Some(0), "{text}");
    let lines = text
        .lines()
        .filter(|l| l.starts_with("pass ") || l.starts_with("FAIL "))
        .count();
    assert_eq!(lines as u64, rows[1]["checks_total"].as_u64().unwrap(), "{text}");

    // A corrupted report: the top diagnosis and one sign changed → exit 1, those lines FAIL.
    let mut r: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    r["differential"][0]["diagnosis"] = "no_mass".into();
    let flipped = if r["signs"][0]["state"] == "present" {
        "absent"
    } else {
        "present"
    };
    r["signs"][0]["state"] = flipped.into();
    let bad = tmp.path().join("corrupted.json");
    std::fs::write(&bad, serde_json::to_string(&r).unwrap()).unwrap();
    let o = score(&bad, &truth);
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    assert_eq!(o.status.code(), Some(1), "{text}");
    assert!(text.contains("FAIL top_diagnosis"), "{text}");
    assert_eq!(
        text.lines().filter(|l| l.starts_with("FAIL ")).count(),
        2,
        "{text}"
    );

    // Unreadable input → exit 2, naming the file.
    let o = score(&tmp.path().join("missing.json"), &truth);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("missing.json"));
    let o = score(&report, &report);
    assert_eq!(o.status.code(), Some(2), "a report is not a truth.json");
}
