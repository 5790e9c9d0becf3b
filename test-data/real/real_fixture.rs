//! Test support: locate the real abdominal volumes of `test-data/real/fetch.sh`.
//!
//! Include it from a test with
//! `#[path = "../../../test-data/real/real_fixture.rs"] mod real_fixture;` (std only).
//! On first use it runs `fetch.sh` (cache `$CAVASCOPE_REAL`, else `~/.cache/cavascope/real`).
//! A file still missing afterwards **fails the test in CI** (`CI` set to `true` or `1`), naming
//! the file and why; elsewhere the test prints `SKIP real-data test: …` and returns early:
//!
//! ```ignore
//! let Some(ct) = real_fixture::ts_file("example_ct.nii.gz") else { return };
//! ```
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub const TOTALSEG: &str = "totalsegmentator-2.18.0";
pub const RENALSEG: &str = "renalsegmentor-2.0.0";
pub const PYRADIOMICS: &str = "pyradiomics-3.0.1";

fn workspace_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.ancestors()
        .find(|p| p.join("test-data/real/fetch.sh").exists())
        .unwrap_or(here)
        .to_path_buf()
}

/// The cache folder (`$CAVASCOPE_REAL`, else `$XDG_CACHE_HOME` or `~/.cache` + `cavascope/real`).
pub fn cache_dir() -> PathBuf {
    if let Some(p) = std::env::var_os("CAVASCOPE_REAL") {
        return PathBuf::from(p);
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| workspace_root().join("target"));
    base.join("cavascope/real")
}

pub fn in_ci() -> bool {
    matches!(
        std::env::var("CI").map(|v| v.to_ascii_lowercase()),
        Ok(v) if v == "true" || v == "1"
    )
}

/// Run fetch.sh once per process; `Err` holds why it failed.
fn fetched() -> &'static Result<PathBuf, String> {
    static DIR: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    DIR.get_or_init(|| {
        let cache = cache_dir();
        let out = std::process::Command::new("bash")
            .arg(workspace_root().join("test-data/real/fetch.sh"))
            .arg(&cache)
            .output();
        match out {
            Ok(o) if o.status.success() => Ok(cache),
            Ok(o) => Err(format!(
                "test-data/real/fetch.sh failed: {}",
                String::from_utf8_lossy(&o.stderr).trim()
            )),
            Err(e) => Err(format!("cannot run test-data/real/fetch.sh: {e}")),
        }
    })
}

/// `<cache>/<package>/<rel>`, fetched on first use. Missing: panic in CI, `None` elsewhere.
pub fn file(package: &str, rel: &str) -> Option<PathBuf> {
    let why = match fetched() {
        Ok(cache) => {
            let p = cache.join(package).join(rel);
            if p.exists() {
                return Some(p);
            }
            format!("{} is missing after fetch", p.display())
        }
        Err(e) => format!("{package}/{rel}: {e}"),
    };
    if in_ci() {
        panic!("real-data fixture missing (CI=true): {why}");
    }
    eprintln!("SKIP real-data test: {why}");
    None
}

/// A file of TotalSegmentator's `tests/reference_files/`.
pub fn ts_file(name: &str) -> Option<PathBuf> {
    file(TOTALSEG, &format!("tests/reference_files/{name}"))
}
