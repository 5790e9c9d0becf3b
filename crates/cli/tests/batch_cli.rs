//! `cavascope batch` end to end on phantom studies: a broken study among good ones,
//! hostile folder names and series descriptions, shards, resume after a killed run.

mod reliability_support;

use reliability_support::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Phantom studies generated once per test run.
struct Fixtures {
    /// Coarse grids: a complete report in a fraction of a second, for the machinery.
    normal: PathBuf,
    lms: PathBuf,
    /// Finer grids, for measurements against truth and for a study that takes a while.
    fine_normal: PathBuf,
    fine_lms: PathBuf,
    /// Thick-slice grids at 2 mm in-plane: numbers checked against the truth.
    truth_normal: PathBuf,
    truth_lms: PathBuf,
}

fn fixtures() -> &'static Fixtures {
    static F: OnceLock<Fixtures> = OnceLock::new();
    F.get_or_init(|| {
        let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("batch_cli-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let f = Fixtures {
            normal: base.join("normal"),
            lms: base.join("lms"),
            fine_normal: base.join("fine_normal"),
            fine_lms: base.join("fine_lms"),
            truth_normal: base.join("truth_normal"),
            truth_lms: base.join("truth_lms"),
        };
        write_coarse_phantom(&f.normal, "normal", 1);
        write_coarse_phantom(&f.lms, "ivc_leiomyosarcoma", 2);
        write_phantom(&f.fine_normal, "normal", 1);
        write_phantom(&f.fine_lms, "ivc_leiomyosarcoma", 2);
        write_thick_slice_phantom(&f.truth_normal, "normal", 1);
        write_thick_slice_phantom(&f.truth_lms, "ivc_leiomyosarcoma", 2);
        f
    })
}

/// A study folder that no analysis can use: junk and a truncated DICOM file.
fn write_broken(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("junk.dcm"), b"not DICOM at all").unwrap();
    let mut good = Vec::new();
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("x.dcm");
    Slice::axial(9, 0).write(&f);
    good.extend(std::fs::read(&f).unwrap());
    std::fs::write(dir.join("truncated.dcm"), &good[..good.len() / 3]).unwrap();
}

fn batch(args: &[&OsStr]) -> std::process::Output {
    let mut a: Vec<&OsStr> = vec![OsStr::new("batch")];
    a.extend_from_slice(args);
    let out = run_limited(&a, 300);
    assert_clean_exit(&out, "batch");
    out
}

fn summary_without_seconds(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut rows = read_csv(path);
    for r in &mut rows {
        r.remove("seconds");
    }
    rows
}

/// Every path under `out` stays under it, and every study folder name is safe.
fn assert_contained(out: &Path) {
    let canon = std::fs::canonicalize(out).unwrap();
    for f in files_under(out) {
        let c = std::fs::canonicalize(&f).unwrap();
        assert!(
            c.starts_with(&canon),
            "{} escapes {}",
            c.display(),
            canon.display()
        );
    }
    for e in std::fs::read_dir(out).unwrap() {
        let name = e.unwrap().file_name();
        let name = name.to_str().expect("output names are UTF-8");
        assert!(!name.starts_with('.'), "leftover temporary {name}");
        assert!(name.len() <= 64, "{name}");
        assert!(
            name.chars().all(|c| c.is_alphanumeric() || "._-+".contains(c)),
            "unsafe name {name:?}"
        );
    }
}

/// The summary says what each report says.
fn assert_row_matches_report(row: &BTreeMap<String, String>, report: &Value) {
    let s = |v: Option<&Value>| match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(x)) => x.clone(),
        Some(x) => x.to_string(),
    };
    for sign in report["signs"].as_array().unwrap() {
        let id = sign["id"].as_str().unwrap();
        assert_eq!(row[&format!("sign_{id}")], s(sign.get("state")), "{id}");
    }
    assert_eq!(
        row["top_diagnosis"],
        s(report.pointer("/differential/0/diagnosis"))
    );
    for (col, ptr) in [
        (
            "ivc_max_equivalent_diameter_mm",
            "/ivc/max_equivalent_diameter_mm",
        ),
        ("mass_volume_ml", "/mass/volume_ml"),
        ("files_used", "/input/files_used"),
    ] {
        let want = report.pointer(ptr).and_then(Value::as_f64);
        let got = row[col].parse::<f64>().ok();
        assert_eq!(got, want, "{col}");
    }
}

#[test]
fn batch_with_a_broken_study_and_hostile_names() {
    let Fixtures { normal, lms, .. } = fixtures();
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    copy_tree(normal, &r.join("normal"));
    // Hostile series descriptions (same byte length, so the files stay valid DICOM).
    copy_tree(lms, &r.join("lms"));
    assert!(patch_bytes(&r.join("lms"), b"ABD ARTERIAL 2.5mm", b"../../ARTERIAL\xff\xfe/x") > 0);
    assert!(
        patch_bytes(
            &r.join("lms"),
            b"ABD PORTAL VENOUS 2.5mm",
            b"..\\..\\PORTAL VENOUS\x00\x01/."
        ) > 0
    );
    write_broken(&r.join("broken"));
    // Hostile folder names: very long, not UTF-8, shell metacharacters.
    let long = "x".repeat(250);
    copy_tree(normal, &r.join(&long));
    let non_utf8 = {
        use std::os::unix::ffi::OsStrExt;
        PathBuf::from(OsStr::from_bytes(b"pat\xff\xfe name"))
    };
    write_broken(&r.join(&non_utf8));
    write_broken(&r.join("a b;$(touch pwned)"));
    let before = hash_tree(r);

    let out = tempfile::tempdir().unwrap();
    let o = out.path().join("results");
    // --dicom-out: a SEG and an SR per analysed study (docs/dicom-out.md).
    let res = batch(&[
        r.as_os_str(),
        OsStr::new("--out"),
        o.as_os_str(),
        OsStr::new("--dicom-out"),
    ]);
    let stderr = String::from_utf8_lossy(&res.stderr);
    assert_eq!(
        res.status.code(),
        Some(1),
        "a failed study makes exit code 1\n{stderr}"
    );

    assert_eq!(hash_tree(r), before, "inputs changed");
    assert!(!r.join("pwned").exists() && !Path::new("pwned").exists());
    assert_contained(&o);

    let rows = read_csv(&o.join("summary.csv"));
    assert_eq!(rows.len(), 6, "{rows:#?}");
    let by_input: BTreeMap<String, &BTreeMap<String, String>> =
        rows.iter().map(|r| (r["input"].clone(), r)).collect();
    let row = |name: &Path| by_input[&r.join(name).to_string_lossy().into_owned()];
    for bad in [Path::new("broken"), &non_utf8, Path::new("a b;$(touch pwned)")] {
        let b = row(bad);
        assert_eq!(b["status"], "failed", "{bad:?}");
        assert!(!b["error"].is_empty());
        assert!(o.join(&b["study"]).join("error.txt").is_file());
    }
    for good in [Path::new("normal"), Path::new("lms"), Path::new(&long)] {
        let g = row(good);
        assert_eq!(g["status"], "ok", "{good:?}: {}", g["error"]);
        let report: Value =
            serde_json::from_slice(&std::fs::read(o.join(&g["study"]).join("report.json")).unwrap()).unwrap();
        assert_row_matches_report(g, &report);
        // The SR always; the SEG when a structure was segmented (these coarse grids
        // may give none).
        let dicom = o.join(&g["study"]).join("dicom");
        assert!(dicom.join("sr.dcm").is_file(), "{good:?}: sr.dcm missing");
        let segmented = !report["ivc"].is_null()
            || !report["mass"].is_null()
            || report["collaterals"]["volume_ml"].as_f64().unwrap_or(0.0) > 0.0;
        assert_eq!(dicom.join("seg.dcm").is_file(), segmented, "{good:?}: seg.dcm");
    }
    // Same pixels under two names: same measurements.
    let (n, l) = (row(Path::new("normal")), row(Path::new(&long)));
    assert_eq!(
        n["ivc_max_equivalent_diameter_mm"],
        l["ivc_max_equivalent_diameter_mm"]
    );
    assert_eq!(n["study"], "normal");
    assert_ne!(n["study"], l["study"]);
    // No patient names or IDs in logs (the phantom writes PHANTOM^<CASE>).
    assert!(!stderr.contains("PHANTOM^"), "patient name logged:\n{stderr}");
    assert!(
        !stderr.contains("CAVASCOPE-normal"),
        "patient ID logged:\n{stderr}"
    );
}

#[test]
fn shards_union_equals_unsharded_and_resume_merges() {
    let Fixtures { normal, lms, .. } = fixtures();
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    copy_tree(normal, &r.join("a_normal"));
    copy_tree(lms, &r.join("b_lms"));
    write_broken(&r.join("c_broken"));
    // A list file with the same studies, one via `..`, one twice, comments.
    let list = r.join("list.txt");
    std::fs::write(
        &list,
        "# studies\na_normal\n./c_broken/../b_lms\nc_broken\n\na_normal\n",
    )
    .unwrap();

    let full = tempfile::tempdir().unwrap();
    batch(&[list.as_os_str(), OsStr::new("--out"), full.path().as_os_str()]);
    let want = summary_without_seconds(&full.path().join("summary.csv"));
    assert_eq!(want.len(), 3, "duplicates listed once: {want:#?}");

    let sharded = tempfile::tempdir().unwrap();
    let mut got = Vec::new();
    let mut sizes = Vec::new();
    for i in 1..=2 {
        let shard = format!("{i}/2");
        batch(&[
            list.as_os_str(),
            OsStr::new("--out"),
            sharded.path().as_os_str(),
            OsStr::new("--shard"),
            OsStr::new(&shard),
        ]);
        let part = summary_without_seconds(&sharded.path().join(format!("summary-shard-{i}-of-2.csv")));
        sizes.push(part.len());
        got.extend(part);
    }
    assert_eq!(sizes, [2, 1]);
    let key = |r: &BTreeMap<String, String>| r["study"].clone();
    let mut want_sorted = want.clone();
    want_sorted.sort_by_key(key);
    got.sort_by_key(key);
    assert_eq!(
        got, want_sorted,
        "the shards' union differs from the unsharded run"
    );

    // Merging: a --resume run over the whole list re-analyses only what is not complete
    // (the broken study) and writes the full summary.
    batch(&[
        list.as_os_str(),
        OsStr::new("--out"),
        sharded.path().as_os_str(),
        OsStr::new("--resume"),
    ]);
    let merged = read_csv(&sharded.path().join("summary.csv"));
    let merged_wo: Vec<_> = merged
        .iter()
        .cloned()
        .map(|mut r| {
            r.remove("seconds");
            r
        })
        .collect();
    assert_eq!(merged_wo, want);
    let secs: Vec<&str> = merged.iter().map(|r| r["seconds"].as_str()).collect();
    assert!(
        secs[0].is_empty() && secs[1].is_empty(),
        "complete studies were re-run: {secs:?}"
    );
    assert!(!secs[2].is_empty(), "the failed study was not retried");
}

#[test]
fn resume_after_a_killed_run() {
    let Fixtures { normal, fine_lms, .. } = fixtures();
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    copy_tree(normal, &r.join("s1"));
    // The slow one: the kill lands while it is being analysed.
    copy_tree(fine_lms, &r.join("s2"));
    copy_tree(normal, &r.join("s3"));
    let out = tempfile::tempdir().unwrap();
    let o = out.path();

    let mut child = Command::new(bin())
        .args([
            OsStr::new("batch"),
            r.as_os_str(),
            OsStr::new("--out"),
            o.as_os_str(),
        ])
        .args(["--threads", "1"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill it as soon as the first study is complete: the second is then under way.
    let t0 = Instant::now();
    while !o.join("s1/report.json").exists() {
        assert!(
            t0.elapsed() < Duration::from_secs(240),
            "first study never finished"
        );
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
    let killed_early = !o.join("s3/report.json").exists();
    // Whatever was under way is not visible under its final name.
    for s in ["s2", "s3"] {
        let d = o.join(s);
        assert!(!d.exists() || d.join("report.json").is_file(), "{s} half-written");
    }
    let first_report = std::fs::read(o.join("s1/report.json")).unwrap();
    let first_mtime = std::fs::metadata(o.join("s1/report.json"))
        .unwrap()
        .modified()
        .unwrap();

    let res = batch(&[
        r.as_os_str(),
        OsStr::new("--out"),
        o.as_os_str(),
        OsStr::new("--resume"),
    ]);
    assert_eq!(
        res.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
    assert_eq!(std::fs::read(o.join("s1/report.json")).unwrap(), first_report);
    assert_eq!(
        std::fs::metadata(o.join("s1/report.json"))
            .unwrap()
            .modified()
            .unwrap(),
        first_mtime,
        "a complete study was analysed again"
    );
    assert_contained(o);
    let rows = read_csv(&o.join("summary.csv"));
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|r| r["status"] == "ok"), "{rows:#?}");
    assert!(rows[0]["seconds"].is_empty(), "s1 re-run");
    if killed_early {
        assert!(!rows[1]["seconds"].is_empty(), "s2 not re-run after the kill");
    }
    // Same pixels, same result, whether analysed before or after the kill.
    assert_eq!(rows[0]["sign_dilated_ivc"], rows[2]["sign_dilated_ivc"]);
    assert_eq!(
        rows[0]["ivc_max_equivalent_diameter_mm"],
        rows[2]["ivc_max_equivalent_diameter_mm"]
    );
}

#[test]
fn bad_arguments_exit_2() {
    let out = tempfile::tempdir().unwrap();
    for args in [
        vec!["batch", "/nonexistent/list.txt", "--out"],
        vec!["batch", ".", "--shard", "3/2", "--out"],
        vec!["batch", ".", "--shard", "0/2", "--out"],
        vec!["batch", ".", "--ivc-seed", "1,2", "--out"],
    ] {
        let mut a: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
        a.push(out.path().as_os_str());
        let res = run_limited(&a, 60);
        assert_eq!(
            res.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&res.stderr)
        );
    }
    // An empty root is a mistake worth saying (probably one study passed as a root).
    let empty = tempfile::tempdir().unwrap();
    let res = run_limited(
        &[
            OsStr::new("batch"),
            empty.path().as_os_str(),
            OsStr::new("--out"),
            out.path().as_os_str(),
        ],
        60,
    );
    assert_eq!(res.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&res.stderr).contains("no study folders"));
}

/// Against the phantom's truth: the summary carries the real analysis of each study
/// (through the batch path: naming, per-study folders, summary), not placeholders.
#[test]
fn batch_summary_agrees_with_phantom_truth() {
    let Fixtures {
        truth_normal: normal,
        truth_lms: lms,
        ..
    } = fixtures();
    let root = tempfile::tempdir().unwrap();
    copy_tree(normal, &root.path().join("normal"));
    copy_tree(lms, &root.path().join("lms"));
    let out = tempfile::tempdir().unwrap();
    batch(&[
        root.path().as_os_str(),
        OsStr::new("--out"),
        out.path().as_os_str(),
    ]);
    let rows = read_csv(&out.path().join("summary.csv"));
    // One row per study, in name order: an empty or short summary must fail here.
    assert_eq!(rows.len(), 2, "summary rows: {rows:?}");
    for (row, (src, want_name)) in rows.iter().zip([(lms, "lms"), (normal, "normal")]) {
        let truth: Value = serde_json::from_slice(&std::fs::read(src.join("truth.json")).unwrap()).unwrap();
        let name = &row["study"];
        assert_eq!(name, want_name);
        assert_eq!(row["status"], "ok", "{name}: {}", row["error"]);
        let want = truth["ivc"]["max_equivalent_diameter_mm"].as_f64().unwrap();
        let got: f64 = row["ivc_max_equivalent_diameter_mm"].parse().unwrap_or(f64::NAN);
        // As the end-to-end tests: within 3 mm (1.5 voxels at 2 mm).
        assert!(
            (got - want).abs() <= 3.0,
            "{name}: IVC max diameter {got} vs truth {want}"
        );
        assert_eq!(
            row["top_diagnosis"],
            truth["expected_top_diagnosis"].as_str().unwrap(),
            "{name}"
        );
        for id in ["dilated_ivc", "imperceptible_ivc_lumen"] {
            assert_eq!(
                row[&format!("sign_{id}")],
                truth["expected_signs"][id].as_str().unwrap(),
                "{name}: {id}"
            );
        }
    }
}
