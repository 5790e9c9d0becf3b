//! `cavascope batch LIST_OR_ROOT --out OUT [--shard I/N] [--resume]`: many studies, one
//! after another, each into `OUT/<name>/`, and `OUT/summary.csv`.
//!
//! Studies run one at a time, each using every worker thread of rayon's global pool
//! (`--threads`); a study's volumes are dropped before the next one is read, so memory
//! stays that of the largest study. One failing (even panicking) study is recorded and the
//! batch goes on; the exit code is 1 when any failed. Each study is written into a hidden
//! `OUT/.<name>.partial/` folder and renamed when done, so `OUT/<name>/` is always whole.

mod fsio;
mod naming;
mod plan;
mod summary;

use crate::args::*;
use crate::cmd::{analyze, logging};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::path::{Path, PathBuf};
use std::time::Instant;
use summary::{Row, Status};
use thiserror::Error;
use tracing::{info, warn};

/// Errors that stop a batch before or between studies (a failing *study* never does).
#[derive(Debug, Error)]
pub enum BatchError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("--shard {0:?}: expected I/N with 1 <= I <= N, e.g. --shard 3/10")]
    BadShard(String),
    #[error("{0}: no study folders found (a root's subfolders are the studies; for one study use `cavascope analyze`)")]
    NoStudies(PathBuf),
    #[error("summary: {0}")]
    Csv(#[from] csv::Error),
    #[error(transparent)]
    Write(#[from] cavascope_report::ReportError),
}

/// Analyses one study folder into an (empty, existing) output folder.
pub type Analyzer<'a> = dyn Fn(&Path, &Path) -> Result<(), String> + 'a;

pub fn run(g: &Global, a: BatchArgs) -> u8 {
    let shard = match a.shard.as_deref().map(plan::Shard::parse).transpose() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("cavascope batch: {e}");
            return 2;
        }
    };
    if !a.list_or_root.exists() {
        eprintln!(
            "cavascope batch: {}: no such file or folder",
            a.list_or_root.display()
        );
        return 2;
    }
    // Arguments are checked once, before any study: a bad one is exit 2, not N failures.
    let parsed = match analyze::parse_inputs(&a.inputs) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("cavascope batch: {e}");
            return 2;
        }
    };
    let analyzer = |study: &Path, out: &Path| {
        analyze::analyze_parsed(study, out, &parsed)
            .map(drop)
            .map_err(|e| match e {
                analyze::AnalyzeError::Study { reason, .. } => reason,
                other => other.to_string(),
            })
    };
    let opts = BatchOptions {
        shard,
        resume: a.resume,
        bars: logging::bars_wanted(g.quiet),
    };
    match run_batch(&a.list_or_root, &a.out, &opts, &analyzer) {
        Ok(outcome) => {
            if outcome.failed > 0 {
                eprintln!(
                    "cavascope batch: {} of {} studies failed; see {}",
                    outcome.failed,
                    outcome.total,
                    outcome.summary.display()
                );
                1
            } else {
                0
            }
        }
        Err(e @ (BatchError::BadShard(_) | BatchError::NoStudies(_))) => {
            eprintln!("cavascope batch: {e}");
            2
        }
        Err(e) => {
            eprintln!("cavascope batch: {e}");
            1
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct BatchOptions {
    pub shard: Option<plan::Shard>,
    pub resume: bool,
    pub bars: bool,
}

#[derive(Debug)]
pub struct Outcome {
    pub total: usize,
    pub failed: usize,
    pub summary: PathBuf,
}

/// Run the studies of `list_or_root` (this shard's share) into `out` with `analyze`.
pub fn run_batch(
    list_or_root: &Path,
    out: &Path,
    opts: &BatchOptions,
    analyze: &Analyzer,
) -> Result<Outcome, BatchError> {
    std::fs::create_dir_all(out).map_err(|source| BatchError::Io {
        path: out.to_path_buf(),
        source,
    })?;
    let studies = plan::discover(list_or_root, out)?;
    if studies.is_empty() {
        return Err(BatchError::NoStudies(list_or_root.to_path_buf()));
    }
    let n_listed = studies.len();
    let planned = plan::plan(studies, opts.shard);
    // Concurrent shards share OUT: each writes its own summary (merge: see docs/batch.md).
    let summary_path = match opts.shard {
        Some(s) => out.join(format!("summary-shard-{}-of-{}.csv", s.index, s.count)),
        None => out.join("summary.csv"),
    };
    fsio::remove_stale_temps(&summary_path)?;
    info!(
        "batch: {} studies listed, {} in this run{}",
        n_listed,
        planned.len(),
        opts.shard
            .map(|s| format!(" (shard {}/{})", s.index, s.count))
            .unwrap_or_default()
    );

    let bar = opts.bars.then(|| {
        let mp = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let pb = mp.add(ProgressBar::new(planned.len() as u64));
        if let Ok(style) =
            ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} studies {msg}")
        {
            pb.set_style(style.progress_chars("=> "));
        }
        // The clock keeps moving through a long study.
        pb.enable_steady_tick(std::time::Duration::from_millis(500));
        logging::set_bars(Some(mp));
        pb
    });

    let mut rows: Vec<Row> = Vec::with_capacity(planned.len());
    let mut failed = 0;
    for (pos, study) in planned.iter().enumerate() {
        if let Some(pb) = &bar {
            pb.set_message(study.name.clone());
        }
        let row = run_one(study, out, opts.resume, analyze);
        match row.status {
            Status::Failed => {
                failed += 1;
                warn!(
                    "[{}/{}] {}: failed: {}",
                    pos + 1,
                    planned.len(),
                    study.name,
                    row.error
                );
            }
            Status::Resumed => info!(
                "[{}/{}] {}: complete, skipped",
                pos + 1,
                planned.len(),
                study.name
            ),
            Status::Ok => info!(
                "[{}/{}] {}: done in {:.1} s",
                pos + 1,
                planned.len(),
                study.name,
                row.seconds.unwrap_or(0.0)
            ),
        }
        rows.push(row);
        // Rewritten after every study: a killed run still leaves a current summary.
        fsio::write_atomic(&summary_path, &summary::to_csv(&rows)?)?;
        if let Some(pb) = &bar {
            pb.inc(1);
        }
    }
    if planned.is_empty() {
        fsio::write_atomic(&summary_path, &summary::to_csv(&rows)?)?;
    }
    if let Some(pb) = bar {
        pb.finish_and_clear();
        logging::set_bars(None);
    }
    info!(
        "batch: {} ok, {} failed; summary in {}",
        rows.len() - failed,
        failed,
        summary_path.display()
    );
    Ok(Outcome {
        total: rows.len(),
        failed,
        summary: summary_path,
    })
}

/// Name of the file beside a failed study's outputs that says why it failed.
const ERROR_FILE: &str = "error.txt";

fn run_one(study: &plan::Planned, out: &Path, resume: bool, analyze: &Analyzer) -> Row {
    let mut row = Row {
        study: study.name.clone(),
        input: study.dir.to_string_lossy().into_owned(),
        status: Status::Failed,
        error: String::new(),
        seconds: None,
        report: None,
    };
    let fin = out.join(&study.name);
    if let Err(e) = fsio::clean_leftovers(out, &study.name) {
        row.error = e.to_string();
        return row;
    }
    if resume && !fin.join(ERROR_FILE).exists() {
        if let Some(report) = summary::read_complete_report(&fin.join("report.json")) {
            row.status = Status::Resumed;
            row.report = Some(report);
            return row;
        }
    }
    let work = fsio::partial_dir(out, &study.name);
    if let Err(source) = std::fs::create_dir_all(&work) {
        row.error = BatchError::Io { path: work, source }.to_string();
        return row;
    }
    let t0 = Instant::now();
    // A panic in one study is that study's failure, not the batch's.
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| analyze(&study.dir, &work)))
        .unwrap_or_else(|p| Err(format!("internal error: {}", panic_text(p.as_ref()))));
    row.seconds = Some(t0.elapsed().as_secs_f64());
    match result {
        Ok(()) => match summary::read_complete_report(&work.join("report.json")) {
            Some(report) => {
                row.status = Status::Ok;
                row.report = Some(report);
            }
            None => row.error = "analysis wrote no complete report.json".to_string(),
        },
        Err(e) => row.error = one_line(&e),
    }
    if row.status == Status::Failed {
        // The reason stays beside whatever the analysis could write.
        if let Err(e) = fsio::write_atomic(&work.join(ERROR_FILE), format!("{}\n", row.error).as_bytes()) {
            warn!("{}: {e}", study.name);
        }
    }
    if let Err(e) = fsio::publish_dir(out, &study.name) {
        row.status = Status::Failed;
        row.error = e.to_string();
    }
    row
}

fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_string())
}

/// CSV cells and log lines stay one line each.
fn one_line(s: &str) -> String {
    s.split(['\n', '\r'])
        .filter(|l| !l.trim().is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    /// Stands in for the analysis: a study folder holding a file `fail` fails, one holding
    /// `panic` panics, any other gets a minimal schema-v1 report naming its folder.
    fn fake(study: &Path, out: &Path) -> Result<(), String> {
        if study.join("panic").exists() {
            panic!("boom");
        }
        if study.join("fail").exists() {
            return Err("no volume\nsecond line".into());
        }
        let name = study
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let report = serde_json::json!({
            "schema_version": 1,
            "input": {"path": name, "files_scanned": 3, "files_used": 3, "files_skipped": []},
            "signs": [{"id": "dilated_ivc", "state": "present"}],
            "differential": [{"diagnosis": name, "score": 0.5}],
            "warnings": []
        });
        std::fs::write(out.join("report.json"), report.to_string()).map_err(|e| e.to_string())
    }

    fn make_root(n: usize, failing: &[usize]) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        for i in 0..n {
            let s = d.path().join(format!("study{i:02}"));
            std::fs::create_dir(&s).unwrap();
            if failing.contains(&i) {
                std::fs::write(s.join("fail"), b"").unwrap();
            }
        }
        d
    }

    fn rows_without_seconds(csv_path: &Path) -> Vec<Vec<String>> {
        let mut r = csv::Reader::from_path(csv_path).unwrap();
        let h = r.headers().unwrap().clone();
        let sec = h.iter().position(|x| x == "seconds").unwrap();
        r.records()
            .map(|rec| {
                let rec = rec.unwrap();
                rec.iter()
                    .enumerate()
                    .filter(|(i, _)| *i != sec)
                    .map(|(_, v)| v.to_string())
                    .collect()
            })
            .collect()
    }

    #[test]
    fn failures_and_panics_do_not_stop_the_batch() {
        let root = make_root(5, &[1]);
        std::fs::write(root.path().join("study03/panic"), b"").unwrap();
        let out = tempfile::tempdir().unwrap();
        let o = run_batch(root.path(), out.path(), &BatchOptions::default(), &fake).unwrap();
        assert_eq!((o.total, o.failed), (5, 2));
        let rows = rows_without_seconds(&out.path().join("summary.csv"));
        let status: Vec<&str> = rows.iter().map(|r| r[2].as_str()).collect();
        assert_eq!(status, ["ok", "failed", "ok", "failed", "ok"]);
        assert_eq!(rows[1][3], "no volume; second line");
        assert!(rows[3][3].contains("boom"));
        assert!(out.path().join("study01/error.txt").exists());
        assert!(out.path().join("study04/report.json").exists());
        // Nothing half-written left behind.
        let hidden = std::fs::read_dir(out.path())
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with('.'))
            .count();
        assert_eq!(hidden, 0);
    }

    #[test]
    fn shard_union_equals_unsharded() {
        let root = make_root(7, &[2]);
        let full = tempfile::tempdir().unwrap();
        run_batch(root.path(), full.path(), &BatchOptions::default(), &fake).unwrap();
        let mut want = rows_without_seconds(&full.path().join("summary.csv"));
        let sharded = tempfile::tempdir().unwrap();
        let mut got = Vec::new();
        for i in 1..=3 {
            let opts = BatchOptions {
                shard: Some(plan::Shard { index: i, count: 3 }),
                ..Default::default()
            };
            run_batch(root.path(), sharded.path(), &opts, &fake).unwrap();
            got.extend(rows_without_seconds(
                &sharded.path().join(format!("summary-shard-{i}-of-3.csv")),
            ));
        }
        want.sort();
        got.sort();
        assert_eq!(got, want);
        assert_eq!(want.len(), 7);
    }

    #[test]
    fn resume_skips_complete_and_retries_failed_and_partial() {
        let root = make_root(4, &[2]);
        let out = tempfile::tempdir().unwrap();
        run_batch(root.path(), out.path(), &BatchOptions::default(), &fake).unwrap();
        // A run killed inside study 3: its folder never got its final name.
        std::fs::rename(out.path().join("study03"), out.path().join(".study03.partial")).unwrap();
        std::fs::remove_file(root.path().join("study02/fail")).unwrap();
        let calls = Cell::new(0);
        let counting = |s: &Path, o: &Path| {
            calls.set(calls.get() + 1);
            fake(s, o)
        };
        let opts = BatchOptions {
            resume: true,
            ..Default::default()
        };
        let o = run_batch(root.path(), out.path(), &opts, &counting).unwrap();
        assert_eq!(o.failed, 0);
        assert_eq!(
            calls.get(),
            2,
            "only the failed and the unfinished study run again"
        );
        let mut r = csv::Reader::from_path(out.path().join("summary.csv")).unwrap();
        let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
        let status: Vec<&str> = rows.iter().map(|r| &r[2]).collect();
        assert_eq!(status, ["ok", "ok", "ok", "ok"]);
        let ran: Vec<bool> = rows.iter().map(|r| !r[r.len() - 1].is_empty()).collect();
        assert_eq!(
            ran,
            [false, false, true, true],
            "seconds only for studies run now"
        );
        assert!(!out.path().join("study02/error.txt").exists());
        assert!(!out.path().join(".study03.partial").exists());
    }
}
