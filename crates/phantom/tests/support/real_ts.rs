//! Finds TotalSegmentator 2.18.0's reference files in the real-data cache that
//! `test-data/real/fetch.sh` fills (`$CAVASCOPE_REAL`, else `$XDG_CACHE_HOME` or
//! `~/.cache` + `cavascope/real`, then `totalsegmentator-2.18.0/tests/reference_files/`).
//! Missing: the test fails in CI (`CI` = `true`/`1`), naming the file; elsewhere it
//! prints `SKIP` and the test returns early. Include with `#[path]` (std only).
#![allow(dead_code)]

use std::path::PathBuf;

pub fn cache_dir() -> PathBuf {
    if let Some(p) = std::env::var_os("CAVASCOPE_REAL") {
        return PathBuf::from(p);
    }
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from("/nonexistent"))
        .join("cavascope/real")
}

/// `tests/reference_files/<name>` of the totalsegmentator 2.18.0 sdist, if fetched.
pub fn ts_file(name: &str) -> Option<PathBuf> {
    let p = cache_dir()
        .join("totalsegmentator-2.18.0/tests/reference_files")
        .join(name);
    if p.is_file() {
        return Some(p);
    }
    let ci = matches!(std::env::var("CI").map(|v| v.to_ascii_lowercase()), Ok(v) if v == "true" || v == "1");
    if ci {
        panic!(
            "real-data fixture missing (CI=true): {} (run test-data/real/fetch.sh)",
            p.display()
        );
    }
    eprintln!(
        "SKIP real-data test: {} missing (run test-data/real/fetch.sh)",
        p.display()
    );
    None
}

/// The native abdomen/pelvis CT and its TotalSegmentator `total` label map.
pub fn ct_and_labels() -> Option<(PathBuf, PathBuf)> {
    Some((
        ts_file("example_ct.nii.gz")?,
        ts_file("example_seg_fast_force_split.nii.gz")?,
    ))
}
