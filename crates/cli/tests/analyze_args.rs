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

/// Global flags work before the subcommand as well as after it (`cavascope -v analyze`,
/// `--threads`, `--quiet`): the same outcome as the flags placed after it.
#[test]
fn global_flags_before_the_subcommand() {
    let d = tempfile::tempdir().unwrap();
    let study = d.path().join("study");
    std::fs::create_dir(&study).unwrap();
    let out = d.path().join("out");
    for flags in [
        vec!["-v"],
        vec!["--threads", "2"],
        vec!["--quiet"],
        vec!["-vv", "--threads", "1"],
    ] {
        let mut before = flags.clone();
        before.extend(["analyze", s(&study), "--out", s(&out)]);
        let mut after = vec!["analyze", s(&study), "--out", s(&out)];
        after.extend(flags.iter().copied());
        let (b, a) = (cavascope(&before), cavascope(&after));
        let err = String::from_utf8_lossy(&b.stderr);
        assert!(!err.contains("cannot be used with"), "{before:?}: {err}");
        // An empty study: exit 1 (cannot be analysed), not 2 (bad arguments).
        assert_eq!(b.status.code(), Some(1), "{before:?}: {err}");
        assert_eq!(b.status.code(), a.status.code(), "{before:?} vs {after:?}");
    }
    // --quiet before the subcommand still silences INFO lines.
    let q = cavascope(&["--quiet", "analyze", s(&study), "--out", s(&out)]);
    assert!(!String::from_utf8_lossy(&q.stderr).contains("INFO"));
}

/// `--ivc-mask FILE:N` / `--mass-mask FILE:N` name a label; the suffix is split off only
/// when the whole text is not itself a file, and a missing file is named without it.
#[test]
fn mask_file_with_label_suffix() {
    let d = tempfile::tempdir().unwrap();
    let study = d.path().join("study");
    std::fs::create_dir(&study).unwrap();
    let out = d.path().join("out");
    let mask = d.path().join("seg.nii.gz");
    std::fs::write(&mask, b"placeholder").unwrap();
    let colon = d.path().join("odd:7");
    std::fs::write(&colon, b"placeholder").unwrap();
    let with_label = format!("{}:63", mask.display());
    for (flag, value) in [
        ("--ivc-mask", with_label.as_str()),
        ("--mass-mask", &format!("{}:2", mask.display())),
        ("--ivc-mask", &format!("{}:inferior_vena_cava", mask.display())),
        ("--ivc-mask", s(&colon)),
    ] {
        let o = cavascope(&["analyze", s(&study), "--out", s(&out), flag, value]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!err.contains("no such file"), "{flag} {value}: {err}");
        assert_eq!(o.status.code(), Some(1), "{flag} {value}: {err}");
    }
    let missing = format!("{}:63", d.path().join("none.nii.gz").display());
    let o = cavascope(&["analyze", s(&study), "--out", s(&out), "--ivc-mask", &missing]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("none.nii.gz: no such file"), "{err}");
}

/// Outputs follow the umask (they were 0600 whatever it was): report.json under umask
/// 022 is 0644, under 002 0664 (a lab group on a shared cluster can read it).
#[cfg(unix)]
#[test]
fn outputs_follow_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let d = tempfile::tempdir().unwrap();
    let study = d.path().join("study");
    std::fs::create_dir(&study).unwrap();
    for (umask, want) in [("022", 0o644), ("002", 0o664), ("077", 0o600)] {
        let out = d.path().join(format!("out{umask}"));
        let st = Command::new("sh")
            .arg("-c")
            .arg(format!("umask {umask}; exec \"$0\" analyze \"$1\" --out \"$2\""))
            .arg(env!("CARGO_BIN_EXE_cavascope"))
            .arg(&study)
            .arg(&out)
            .output()
            .unwrap();
        assert_eq!(
            st.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&st.stderr)
        );
        let mode = std::fs::metadata(out.join("report.json"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, want, "umask {umask}: report.json mode {mode:o}");
    }
}
