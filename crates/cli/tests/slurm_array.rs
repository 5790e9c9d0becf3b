//! `batch --shard` / `--resume` under a real single-node Slurm (scripts/slurm_test.sh):
//! the job array of docs/batch.md over phantom studies with a broken one, merged summary
//! equal to an unsharded local run, a task cancelled mid-study and resumed.
//!
//! The script exits 77 where the machine forbids the daemons (not root, a daemon refused
//! to start): the test says so and skips. A missing program (78) skips outside CI and
//! fails under `CI=true`, naming it.

use std::path::Path;
use std::process::Command;

#[test]
fn slurm_job_array_matches_local_run() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let work = tempfile::tempdir().unwrap();
    let o = Command::new("bash")
        .arg(root.join("scripts/slurm_test.sh"))
        .arg(env!("CARGO_BIN_EXE_cavascope"))
        .arg(work.path())
        .output()
        .expect("run bash");
    let err = String::from_utf8_lossy(&o.stderr);
    let said: Vec<&str> = err.lines().filter(|l| l.starts_with("slurm_test:")).collect();
    match o.status.code() {
        Some(0) => eprintln!("{}", said.join("\n")),
        Some(77) => eprintln!("SKIPPED: Slurm cannot run on this machine:\n{err}"),
        Some(78) => {
            let ci = matches!(std::env::var("CI").as_deref(), Ok("true") | Ok("1"));
            assert!(
                !ci,
                "CI must provide Slurm (.ci/run installs slurm-wlm, munge): {err}"
            );
            eprintln!("SKIPPED: {err}");
        }
        other => panic!("slurm_test.sh exited {other:?}:\n{err}"),
    }
}
