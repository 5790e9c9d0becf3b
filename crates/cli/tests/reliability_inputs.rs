//! Inputs are never written, outputs appear whole or not at all.
//!
//! A phantom study is hashed (content, size, mtime, mode of every file and folder) before
//! and after `inspect`, `analyze`, `convert` and `batch`. Then `analyze` and `convert`
//! are killed at a spread of moments: every output file present under its final
//! name must be complete (JSON parses, PNG ends with IEND, gzip streams end, CSV ends
//! with a newline), which holds only if each is written under a temporary name and
//! renamed.

mod reliability_support;

use reliability_support::*;
use std::ffi::OsStr;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

/// A coarse study (quick to analyse) and a finer one (long enough to be killed mid-way),
/// each alone in its own root folder.
fn studies() -> &'static (PathBuf, PathBuf) {
    static S: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    S.get_or_init(|| {
        let root =
            Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("reliability_inputs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let coarse = root.join("coarse/lms");
        let fine = root.join("fine/lms");
        write_coarse_phantom(&coarse, "ivc_leiomyosarcoma", 3);
        write_phantom(&fine, "ivc_leiomyosarcoma", 3);
        (coarse, fine)
    })
}

/// Why `path`, present under its final name, is not a whole file; `None` when it is.
fn incomplete(path: &Path) -> Option<String> {
    let bytes = std::fs::read(path).ok()?;
    let name = path.file_name()?.to_string_lossy().to_lowercase();
    if name.ends_with(".json") {
        return serde_json::from_slice::<serde_json::Value>(&bytes)
            .err()
            .map(|e| e.to_string());
    }
    if name.ends_with(".png") {
        let ok = bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.ends_with(&[0xAE, 0x42, 0x60, 0x82]);
        return (!ok).then(|| "PNG without its IEND chunk".into());
    }
    if name.ends_with(".gz") {
        let mut d = flate2::read::MultiGzDecoder::new(&bytes[..]);
        let mut sink = Vec::new();
        return d.read_to_end(&mut sink).err().map(|e| format!("gzip: {e}"));
    }
    if name.ends_with(".csv") || name.ends_with(".html") || name.ends_with(".txt") {
        let ok = bytes.is_empty() || bytes.ends_with(b"\n") || bytes.ends_with(b">");
        return (!ok).then(|| "text cut short".into());
    }
    None
}

fn run(args: &[&OsStr]) {
    let res = run_limited(args, 300);
    assert_clean_exit(&res, &format!("{args:?}"));
}

#[test]
fn inputs_are_never_written() {
    let study = &studies().0;
    let studies = study.parent().unwrap();
    let before = hash_tree(studies);
    let out = tempfile::tempdir().unwrap();
    let o = |n: &str| out.path().join(n);
    run(&[OsStr::new("inspect"), study.as_os_str()]);
    assert_eq!(hash_tree(studies), before, "inspect changed the input");
    run(&[
        OsStr::new("analyze"),
        study.as_os_str(),
        OsStr::new("--out"),
        o("a").as_os_str(),
    ]);
    assert_eq!(hash_tree(studies), before, "analyze changed the input");
    run(&[
        OsStr::new("convert"),
        study.as_os_str(),
        OsStr::new("--out"),
        o("c").as_os_str(),
    ]);
    assert_eq!(hash_tree(studies), before, "convert changed the input");
    run(&[
        OsStr::new("batch"),
        studies.as_os_str(),
        OsStr::new("--out"),
        o("b").as_os_str(),
    ]);
    assert_eq!(hash_tree(studies), before, "batch changed the input");
    // Output inside the input root: batch must neither analyse it nor write elsewhere.
    let inside = studies.join("zz_results");
    run(&[
        OsStr::new("batch"),
        studies.as_os_str(),
        OsStr::new("--out"),
        inside.as_os_str(),
    ]);
    let rows = read_csv(&inside.join("summary.csv"));
    assert_eq!(
        rows.len(),
        1,
        "the output folder was taken for a study: {rows:#?}"
    );
    std::fs::remove_dir_all(&inside).unwrap();
    assert_eq!(
        hash_tree(studies),
        before,
        "batch (output inside the root) changed the input"
    );
    // Every output is whole after normal runs too, and no temporary is left behind.
    for f in files_under(out.path()) {
        assert!(incomplete(&f).is_none(), "{}: {:?}", f.display(), incomplete(&f));
        let n = f.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            !n.contains(".tmp") && !n.contains(".partial"),
            "temporary left: {}",
            f.display()
        );
    }
}

#[test]
fn killed_runs_leave_no_half_written_outputs() {
    let study = &studies().1;
    let mut checked = 0;
    // (batch publishes whole study folders by rename: covered in batch_cli.)
    for (cmd, input) in [("analyze", study), ("convert", study)] {
        // Time of a whole run, then kills spread across it.
        let probe = tempfile::tempdir().unwrap();
        let t0 = std::time::Instant::now();
        run(&[
            OsStr::new(cmd),
            input.as_os_str(),
            OsStr::new("--out"),
            probe.path().as_os_str(),
        ]);
        let whole = t0.elapsed();
        for step in 1..=3u32 {
            let out = tempfile::tempdir().unwrap();
            let mut child = Command::new(bin())
                .args([
                    OsStr::new(cmd),
                    input.as_os_str(),
                    OsStr::new("--out"),
                    out.path().as_os_str(),
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            std::thread::sleep(whole.mul_f64(step as f64 / 4.0).max(Duration::from_millis(5)));
            let _ = child.kill();
            let _ = child.wait();
            for f in files_under(out.path()) {
                let n = f.file_name().unwrap().to_string_lossy().into_owned();
                // A temporary may be left by a kill; it is never taken for the real file.
                if n.starts_with('.')
                    || n.contains(".tmp")
                    || f.components()
                        .any(|c| c.as_os_str().to_string_lossy().ends_with(".partial"))
                {
                    continue;
                }
                if let Some(why) = incomplete(&f) {
                    panic!("{cmd} killed at {step}/4: {} is half-written: {why}", f.display());
                }
                checked += 1;
            }
        }
    }
    assert!(
        checked > 0,
        "no run got far enough to write anything: nothing was tested"
    );
}

/// Series descriptions are text a file names could be made from: path separators, `..`,
/// control and non-UTF-8 bytes must not put anything outside OUT.
#[test]
fn hostile_series_descriptions_stay_inside_out() {
    let tmp = tempfile::tempdir().unwrap();
    let study = tmp.path().join("study");
    copy_tree(studies().0.as_path(), &study);
    assert!(patch_bytes(&study, b"ABD ARTERIAL 2.5mm", b"../../ARTERIAL\xff\xfe/x") > 0);
    assert!(
        patch_bytes(
            &study,
            b"ABD PORTAL VENOUS 2.5mm",
            b"/tmp/PORTAL VENOUS\x00\x01/.."
        ) > 0
    );
    assert!(patch_bytes(&study, b"ABD DELAYED 3MIN 2.5mm", b"..\\..\\DELAYED\r\n3MIN...") > 0);
    let parent = tmp.path().join("parent");
    std::fs::create_dir(&parent).unwrap();
    let mut allowed = vec![std::fs::canonicalize(&study).unwrap()];
    for cmd in ["analyze", "convert"] {
        let out = parent.join(cmd);
        run(&[
            OsStr::new(cmd),
            study.as_os_str(),
            OsStr::new("--out"),
            out.as_os_str(),
        ]);
        allowed.push(std::fs::canonicalize(&out).unwrap());
        for f in files_under(tmp.path()) {
            let c = std::fs::canonicalize(&f).unwrap();
            assert!(
                allowed.iter().any(|a| c.starts_with(a)),
                "{cmd}: {} written outside its output folder",
                c.display()
            );
        }
    }
    assert!(!Path::new("/tmp/PORTAL VENOUS").exists());
    let top: Vec<_> = std::fs::read_dir(&parent)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        top.len(),
        2,
        "something besides the two output folders in {}: {top:?}",
        parent.display()
    );
}
