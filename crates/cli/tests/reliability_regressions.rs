//! Every input the fuzzers found (crates/cli/tests/data/fuzz-regressions/, see its
//! README) must be used or skipped with a reason, quickly and in bounded memory, by
//! ingest in process and by `cavascope inspect` / `analyze`.
//!
//! One test function on purpose: the peak memory of children (getrusage) is a
//! process-wide maximum, so the binaries run one after another.

mod reliability_support;

use cavascope_ingest::{load_study, IngestOptions};
use reliability_support::*;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The fuzz_targets' multi-file separator (fuzz/fuzz_targets/common.rs).
const FILE_SEPARATOR: &[u8] = b"\n--CAVASCOPE-NEXT-FILE--\n";

/// A study of 16 × 16 × 4 voxels and a few dozen files of a few KB needs far less: a
/// reader that fills a declared length before checking it reaches gigabytes.
const MAX_RSS_MB: i64 = 768;

fn split(data: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = data;
    while let Some(at) = rest
        .windows(FILE_SEPARATOR.len())
        .position(|w| w == FILE_SEPARATOR)
    {
        out.push(rest[..at].to_vec());
        rest = &rest[at + FILE_SEPARATOR.len()..];
    }
    out.push(rest.to_vec());
    out
}

fn children_max_rss_mb() -> i64 {
    // SAFETY: getrusage writes into the struct we pass and reads nothing else.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru) };
    assert_eq!(rc, 0);
    ru.ru_maxrss / 1024
}

fn regression_inputs() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fuzz-regressions");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "bin" || e == "dcm"))
        .collect();
    v.sort();
    v
}

#[test]
fn fuzz_regressions_are_handled() {
    let inputs = regression_inputs();
    assert!(!inputs.is_empty());
    let mut failures = Vec::new();
    for input in &inputs {
        let name = input.file_name().unwrap().to_string_lossy().into_owned();
        let study = tempfile::tempdir().unwrap();
        write_series(&study.path().join("good"), 1, 4);
        let bytes = std::fs::read(input).unwrap();
        let parts = if name.starts_with("volume_assembly") {
            split(&bytes)
        } else {
            vec![bytes]
        };
        for (i, p) in parts.iter().enumerate() {
            std::fs::write(study.path().join(format!("input{i}.dcm")), p).unwrap();
        }
        // Headers only, in process: every input accounted for.
        let s = load_study(
            study.path(),
            &IngestOptions {
                decode_pixels: false,
                ..Default::default()
            },
        )
        .unwrap();
        if s.files_scanned != 4 + parts.len() {
            failures.push(format!(
                "{name}: {} files scanned of {}",
                s.files_scanned,
                4 + parts.len()
            ));
        }
        // The binaries, timed and measured.
        for cmd in ["inspect", "analyze"] {
            let out = tempfile::tempdir().unwrap();
            let mut args = vec![OsStr::new(cmd), study.path().as_os_str()];
            if cmd == "analyze" {
                args.extend([OsStr::new("--out"), out.path().as_os_str()]);
            }
            let t0 = Instant::now();
            let res = run_limited(&args, 120);
            let secs = t0.elapsed().as_secs_f64();
            let rss = children_max_rss_mb();
            if std::panic::catch_unwind(|| assert_clean_exit(&res, &name)).is_err() {
                failures.push(format!("{name}: {cmd}: {:?}", res.status));
            }
            if rss > MAX_RSS_MB {
                failures.push(format!(
                    "{name}: {cmd}: peak memory {rss} MB > {MAX_RSS_MB} MB ({secs:.1} s)"
                ));
                // Later runs would only repeat the same maximum.
                break;
            }
            if secs > 20.0 {
                failures.push(format!("{name}: {cmd}: {secs:.1} s"));
            }
        }
        if failures.iter().any(|f| f.contains("peak memory")) {
            break;
        }
    }
    assert!(
        failures.is_empty(),
        "{} finding(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}
