//! `cavascope analyze` argument handling and exit codes (shared/spec/cli.md): 2 for bad
//! arguments, 1 (with report.json giving the reason) for a study that cannot be analysed,
//! seeds with negative coordinates accepted in both spellings.

use std::path::Path;
use std::process::{Command, Output};

fn cavascope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cavascope"))
        .args(args)
        .output()
        .expect("run cavascope")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn bad_arguments_exit_2() {
    let d = tempfile::tempdir().unwrap();
    let study = d.path().join("study");
    std::fs::create_dir(&study).unwrap();
    let out = d.path().join("out");
    let bad_toml = d.path().join("t.toml");
    std::fs::write(&bad_toml, "no_such_threshold = 3\n").unwrap();
    let cases: Vec<Vec<&str>> = vec![
        vec!["analyze", s(&study), "--out", s(&out), "--ivc-seed", "1,2"],
        vec!["analyze", s(&study), "--out", s(&out), "--ivc-seed=1,2,x"],
        vec!["analyze", s(&study), "--out", s(&out), "--mass-seed", "1,2,3,4"],
        vec!["analyze", s(&study), "--out", s(&out), "--phase", "1.2.3"],
        vec!["analyze", s(&study), "--out", s(&out), "--phase", "1.2.3=venous"],
        vec![
            "analyze",
            s(&study),
            "--out",
            s(&out),
            "--thresholds",
            s(&bad_toml),
        ],
        vec![
            "analyze",
            s(&study),
            "--out",
            s(&out),
            "--ivc-mask",
            "/no/such/mask.nii.gz",
        ],
        vec![
            "analyze",
            s(&study),
            "--out",
            s(&out),
            "--ivc-mask",
            "/no/such/mask.nii.gz:63",
        ],
        vec![
            "analyze",
            s(&study),
            "--out",
            s(&out),
            "--anatomy",
            "/no/such/seg.nii.gz",
        ],
        vec!["analyze", "/no/such/study", "--out", s(&out)],
        vec!["analyze", "/no/such/study.nii.gz", "--out", s(&out)],
        vec!["analyze", s(&study)],
    ];
    for args in cases {
        let o = cavascope(&args);
        assert_eq!(
            o.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(!o.stderr.is_empty(), "{args:?}: no reason on stderr");
    }
    // Nothing was analysed, so nothing was written.
    assert!(!out.join("report.json").exists());
}

#[test]
fn empty_study_exits_1_with_reason_in_report() {
    let d = tempfile::tempdir().unwrap();
    let study = d.path().join("study");
    std::fs::create_dir(&study).unwrap();
    std::fs::write(study.join("notes.txt"), "not a DICOM file").unwrap();
    let out = d.path().join("out");
    // Negative seed coordinates, in both spellings, parse (the failure is the study's).
    for seed_args in [
        vec!["--ivc-seed", "-24.2,-20.5,-85.1", "--mass-seed", "-1,-2,-3"],
        vec!["--ivc-seed=-24.2,-20.5,-85.1", "--mass-seed=-1,-2,-3"],
    ] {
        let mut args = vec!["analyze", s(&study), "--out", s(&out)];
        args.extend(seed_args);
        let o = cavascope(&args);
        assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(stderr.contains("no image volume"), "{stderr}");
        let r: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
        assert!(r["error"].as_str().unwrap().contains("no image volume"));
        assert_eq!(r["signs"].as_array().unwrap().len(), 13);
        let errs = cavascope_report::schema::validate(&cavascope_report::schema::schema(), &r);
        assert!(errs.is_empty(), "{errs:?}");
    }
    // The study folder was not written to.
    let names: Vec<_> = std::fs::read_dir(&study)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1);
}

/// A broken NIfTI (a file or a NIfTI folder) is a study that cannot be analysed (exit 1),
/// the file named with its reason in report.json; nothing panics.
#[test]
fn broken_nifti_exits_1_naming_the_file() {
    let d = tempfile::tempdir().unwrap();
    let folder = d.path().join("nii");
    std::fs::create_dir(&folder).unwrap();
    let bad = folder.join("portal.nii.gz");
    std::fs::write(&bad, "not gzip, not NIfTI").unwrap();
    std::fs::write(folder.join("portal.json"), "{ not json").unwrap();
    for input in [&bad, &folder] {
        let out = d.path().join("out");
        let o = cavascope(&["analyze", s(input), "--out", s(&out)]);
        assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
        let r: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
        let skipped = r["input"]["files_skipped"].to_string();
        assert!(
            skipped.contains("portal.nii.gz") && skipped.contains("NIfTI"),
            "{skipped}"
        );
    }
}
