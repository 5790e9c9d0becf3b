//! What a test needs from outside the workspace — a peer tool (dcm2niix, dciodvfy,
//! dcmdjpeg), a Python module (jsonschema, nibabel, numpy) or a data set (the public DICOM
//! corpus) — asked for in one way.
//!
//! In CI (`CI` set to `true` or `1`, as GitHub Actions, GitLab and `.ci/run` set it) a
//! missing requirement **panics** naming it, so a check that could not run is a failed test,
//! never a silent pass. Outside CI the test is skipped with a line on stderr that names what
//! is missing (`SKIP (not CI): …`); `scripts/check_test_counts.sh` fails a CI log that
//! contains `SKIP`.
//!
//! ```no_run
//! use cavascope_testkit::{require_python, require_tool};
//! if !require_tool("dcm2niix") || !require_python(&["nibabel", "numpy"]) {
//!     return; // skipped outside CI; in CI the call above has panicked
//! }
//! ```
//!
//! With the feature `truth`, the module `truth` gives the phantom's ground truth in the measurement
//! types (the true IVC, landmarks, mass mask), one reading shared by every crate's tests.
//!
//! This crate is for tests only: it prints to stderr and panics by design.

#![warn(missing_docs)]

#[cfg(feature = "truth")]
pub mod truth;

use std::path::PathBuf;
use std::process::{Command, Stdio};

/// True when the environment says this is a CI run (`CI=true` or `CI=1`).
pub fn in_ci() -> bool {
    matches!(
        std::env::var("CI")
            .ok()
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("true" | "1")
    )
}

/// The decision for one requirement: `true` when present; when missing (`Err(why)`),
/// a panic naming `what` in CI, else a `SKIP` notice on stderr and `false`.
pub fn require(what: &str, probe: Result<(), String>) -> bool {
    match decide(what, probe, in_ci()) {
        Ok(()) => true,
        Err(skip) => {
            eprintln!("{skip}");
            false
        }
    }
}

/// The rule with the CI flag given (testable either way, and silent): `Ok(())` when
/// present; missing, a panic naming `what` in CI, else `Err` with the skip notice.
pub fn decide(what: &str, probe: Result<(), String>, ci: bool) -> Result<(), String> {
    match probe {
        Ok(()) => Ok(()),
        Err(why) if ci => panic!("required test peer missing in CI: {what} ({why}); .ci/run must install it"),
        Err(why) => Err(format!(
            "SKIP (not CI): {what} not available ({why}); this check did not run"
        )),
    }
}

/// Whether the executable `tool` starts (it is run with `-h`; its exit status does not
/// matter, as several DICOM tools exit non-zero on `-h`).
pub fn probe_tool(tool: &str) -> Result<(), String> {
    Command::new(tool)
        .arg("-h")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|_| ())
        .map_err(|e| format!("cannot run `{tool}`: {e}"))
}

/// Whether `python3` imports every module of `modules`; the error names the ones that
/// do not import, each with Python's reason.
pub fn probe_python(modules: &[&str]) -> Result<(), String> {
    const SCRIPT: &str = "import importlib, sys\nbad = []\nfor m in sys.argv[1:]:\n    try:\n        importlib.import_module(m)\n    except Exception as e:\n        bad.append('%s (%s: %s)' % (m, type(e).__name__, e))\nif bad:\n    sys.stderr.write('; '.join(bad))\n    sys.exit(1)\n";
    let out = Command::new("python3")
        .arg("-c")
        .arg(SCRIPT)
        .args(modules)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run python3: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "python3 cannot import {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// The peer tool `tool` (an executable on PATH); see the crate docs for the rule.
pub fn require_tool(tool: &str) -> bool {
    require(&format!("tool `{tool}`"), probe_tool(tool))
}

/// Python 3 with every module of `modules` importable; see the crate docs for the rule.
pub fn require_python(modules: &[&str]) -> bool {
    require(
        &format!("python3 module(s) {}", modules.join(", ")),
        probe_python(modules),
    )
}

/// A data set that a fetch produced (`Ok(path)`) or could not (`Err(why)`); see the crate
/// docs for the rule.
pub fn require_data(name: &str, fetched: Result<PathBuf, String>) -> Option<PathBuf> {
    match decide_data(name, fetched, in_ci()) {
        Ok(p) => Some(p),
        Err(skip) => {
            eprintln!("{skip}");
            None
        }
    }
}

/// [`require_data`] with the CI flag given (silent: the skip notice is the `Err`).
pub fn decide_data(name: &str, fetched: Result<PathBuf, String>, ci: bool) -> Result<PathBuf, String> {
    match fetched {
        Ok(p) => Ok(p),
        Err(why) => decide(&format!("data set {name}"), Err(why), ci).map(|()| unreachable!()),
    }
}

/// The public DICOM test corpus (`test-data/corpus/fetch.sh`: pinned PyPI packages,
/// fetched once per process into `$CAVASCOPE_CORPUS`, else `<workspace>/target/corpus-cache`).
/// When the fetch fails: a panic naming the failure in CI, else `None` with a printed skip.
pub fn corpus() -> Option<PathBuf> {
    static DIR: std::sync::OnceLock<Result<PathBuf, String>> = std::sync::OnceLock::new();
    let fetched = DIR.get_or_init(fetch_corpus).clone();
    require_data("public DICOM corpus (test-data/corpus/fetch.sh)", fetched)
}

fn fetch_corpus() -> Result<PathBuf, String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let cache = std::env::var_os("CAVASCOPE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/corpus-cache"));
    let script = root.join("test-data/corpus/fetch.sh");
    match Command::new("bash").arg(&script).arg(&cache).output() {
        Ok(o) if o.status.success() => Ok(cache),
        Ok(o) => Err(format!(
            "{} failed: {}",
            script.display(),
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Err(e) => Err(format!("cannot run {}: {e}", script.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn present_requirements_pass_either_way() {
        assert_eq!(decide("x", Ok(()), true), Ok(()));
        assert_eq!(decide("x", Ok(()), false), Ok(()));
    }

    #[test]
    #[should_panic(expected = "python3 module(s) cavascope_no_such_module_7f3a")]
    fn missing_python_module_fails_in_ci_naming_it() {
        let what = "python3 module(s) cavascope_no_such_module_7f3a";
        let probe = probe_python(&["json", "cavascope_no_such_module_7f3a"]);
        let why = probe.clone().expect_err("the module must not exist");
        // The reason names the missing module only, not the one that imports.
        assert!(
            why.starts_with("python3 cannot import cavascope_no_such_module_7f3a ("),
            "{why}"
        );
        assert!(!why.contains("json"), "{why}");
        let _ = decide(what, probe, true);
    }

    #[test]
    #[should_panic(expected = "tool `cavascope-no-such-tool-7f3a`")]
    fn missing_tool_fails_in_ci_naming_it() {
        let probe = probe_tool("cavascope-no-such-tool-7f3a");
        let _ = decide("tool `cavascope-no-such-tool-7f3a`", probe, true);
    }

    #[test]
    fn missing_requirement_outside_ci_is_skipped_with_its_name() {
        let skip = decide("tool `nope`", probe_tool("cavascope-no-such-tool-7f3a"), false)
            .expect_err("a missing tool must not pass");
        assert!(skip.starts_with("SKIP (not CI): tool `nope`"), "{skip}");
    }

    #[test]
    #[should_panic(expected = "data set corpus (download failed)")]
    fn missing_data_set_fails_in_ci() {
        let _ = decide_data("corpus", Err("download failed".into()), true);
    }

    #[test]
    fn data_set_outside_ci() {
        assert!(decide_data("corpus", Err("offline".into()), false).is_err());
        let p = PathBuf::from("/x");
        assert_eq!(decide_data("corpus", Ok(p.clone()), false), Ok(p));
    }

    /// With python3 present, a stdlib module is found: the probe must not report a
    /// present module as missing.
    #[test]
    fn probe_finds_a_stdlib_module() {
        if require_tool("python3") {
            assert_eq!(probe_python(&["json", "sys"]), Ok(()));
        }
    }
}
