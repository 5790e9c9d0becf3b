//! When is a study complete, and its analysis: a study is complete after `idle` without
//! new instances; complete studies are analysed one at a time (one study's volumes in
//! memory at once), on a snapshot of the instances received so far, into
//! `report/` (written as `.report.partial/` and renamed). Instances arriving during or
//! after an analysis make the study due again.

use crate::layout::{self, Store};
use crate::scu::{self, Peer};
use crate::{lock, Analyzer, NodeConfig};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use tracing::{info, warn};

#[derive(Debug)]
struct StudyState {
    last: Instant,
    /// Instances arrived since the last analysis began.
    due: bool,
}

struct Inner {
    cfg: Arc<NodeConfig>,
    store: Arc<Store>,
    analyzer: Arc<Analyzer>,
    stop: Arc<AtomicBool>,
    studies: Mutex<HashMap<String, StudyState>>,
}

#[derive(Clone)]
pub struct Tracker {
    inner: Arc<Inner>,
}

impl Tracker {
    /// Start the analysis thread.
    pub fn start(
        cfg: Arc<NodeConfig>,
        store: Arc<Store>,
        analyzer: Arc<Analyzer>,
        stop: Arc<AtomicBool>,
    ) -> Tracker {
        let t = Tracker {
            inner: Arc::new(Inner {
                cfg,
                store,
                analyzer,
                stop,
                studies: Mutex::new(HashMap::new()),
            }),
        };
        let w = t.clone();
        let spawned = std::thread::Builder::new()
            .name("analysis".into())
            .spawn(move || w.worker());
        if let Err(e) = spawned {
            warn!("cannot start the analysis thread: {e}; studies are stored, not analysed");
        }
        t
    }

    /// A new instance of `study` was filed.
    pub fn touch(&self, study: &str) {
        let mut s = lock(&self.inner.studies);
        let e = s.entry(study.to_string()).or_insert(StudyState {
            last: Instant::now(),
            due: true,
        });
        e.last = Instant::now();
        e.due = true;
    }

    /// Studies a previous run stored but did not finish analysing (no report, or
    /// instances newer than it) are due again.
    pub fn resume_unfinished(&self) {
        let out = self.inner.store.out().to_path_buf();
        let Ok(rd) = std::fs::read_dir(&out) else {
            return;
        };
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if !layout::valid_uid(&name) || !e.path().is_dir() {
                continue;
            }
            let newest = instances(&e.path())
                .iter()
                .filter_map(|p| p.metadata().and_then(|m| m.modified()).ok())
                .max();
            let Some(newest) = newest else { continue };
            let report = std::fs::metadata(e.path().join(layout::REPORT))
                .and_then(|m| m.modified())
                .unwrap_or(SystemTime::UNIX_EPOCH);
            if newest > report {
                info!("study {name}: not analysed since its last instance; due after --idle");
                self.touch(&name);
            }
        }
    }

    pub fn stop(&self) {
        self.inner.stop.store(true, Ordering::Relaxed);
    }

    fn next_due(&self) -> Option<String> {
        let idle = self.inner.cfg.idle;
        let mut s = lock(&self.inner.studies);
        let pick = s
            .iter()
            .filter(|(_, st)| st.due && st.last.elapsed() >= idle)
            .min_by_key(|(_, st)| st.last)
            .map(|(k, _)| k.clone())?;
        if let Some(st) = s.get_mut(&pick) {
            st.due = false;
        }
        Some(pick)
    }

    fn worker(&self) {
        while !self.inner.stop.load(Ordering::Relaxed) {
            match self.next_due() {
                Some(study) => {
                    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.analyse(&study)));
                    if r.is_err() {
                        warn!("study {study}: the analysis stage panicked; see the report folder");
                    }
                }
                None => std::thread::sleep(Duration::from_millis(200)),
            }
        }
    }

    fn analyse(&self, study: &str) {
        let cfg = &self.inner.cfg;
        let out = self.inner.store.out();
        let dir = out.join(study);
        let files = instances(&dir);
        info!(
            "study {study}: complete ({} instances, {} s without new ones); analysing",
            files.len(),
            cfg.idle.as_secs()
        );
        let t0 = Instant::now();
        // A snapshot of hard links: instances arriving meanwhile do not change the input,
        // and report/ is not part of it.
        let work = out.join(layout::WORK).join(format!(
            "{study}-{}",
            SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_micros())
                .unwrap_or(0)
        ));
        let input = work.join("input");
        if let Err(e) = snapshot(&files, &input) {
            warn!("study {study}: cannot prepare the analysis input: {e}");
            let _ = std::fs::remove_dir_all(&work);
            return;
        }
        let partial = dir.join(layout::REPORT_PARTIAL);
        let _ = std::fs::remove_dir_all(&partial);
        if let Err(e) = std::fs::create_dir_all(&partial) {
            warn!("study {study}: {}: {e}", partial.display());
            let _ = std::fs::remove_dir_all(&work);
            return;
        }
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            (self.inner.analyzer)(&input, &partial)
        }))
        .unwrap_or_else(|_| Err("internal error: the analysis panicked".into()));
        let _ = std::fs::remove_dir_all(&work);
        if self.inner.stop.load(Ordering::Relaxed) {
            // Stopping: leave no half-made report; the next start analyses it again.
            let _ = std::fs::remove_dir_all(&partial);
            return;
        }
        if let Err(why) = &result {
            let _ = layout::write_atomic(&partial.join("error.txt"), format!("{why}\n").as_bytes());
        }
        let report = dir.join(layout::REPORT);
        if let Err(e) = publish(&partial, &report, &dir.join(layout::REPORT_OLD)) {
            warn!("study {study}: cannot publish the report: {e}");
            return;
        }
        match &result {
            Ok(()) => info!(
                "study {study}: analysed in {:.1} s; report in {}",
                t0.elapsed().as_secs_f64(),
                report.display()
            ),
            Err(why) => warn!(
                "study {study}: could not be analysed: {why} (reason in {})",
                report.join("error.txt").display()
            ),
        }
        if let Some(peer) = &cfg.send_to {
            self.send_back(study, peer, &report);
        }
    }

    fn send_back(&self, study: &str, peer: &Peer, report: &Path) {
        let dir = report.join("dicom");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.is_file() && p.extension().is_some_and(|x| x.eq_ignore_ascii_case("dcm")))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        if files.is_empty() {
            info!("study {study}: nothing in {} to send", dir.display());
            return;
        }
        match scu::send_files(peer, &self.inner.cfg.ae_title, &files) {
            Ok(o) if o.failed.is_empty() => {
                info!("study {study}: {} file(s) sent to {peer}", o.sent)
            }
            Ok(o) => {
                for (p, why) in &o.failed {
                    warn!("study {study}: {} not sent to {peer}: {why}", p.display());
                }
                warn!(
                    "study {study}: {} of {} file(s) sent to {peer}",
                    o.sent,
                    files.len()
                );
            }
            Err(e) => warn!("study {study}: {e}"),
        }
    }
}

/// The instance files of a study folder (its report and hidden folders excluded).
fn instances(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "dcm"))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn snapshot(files: &[PathBuf], input: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(input)?;
    for f in files {
        let Some(name) = f.file_name() else { continue };
        let dst = input.join(name);
        // A hard link costs nothing; a copy where the file system has none.
        if std::fs::hard_link(f, &dst).is_err() {
            std::fs::copy(f, &dst)?;
        }
    }
    Ok(())
}

/// Replace `report` by `partial` (the old one moved aside first, then removed).
fn publish(partial: &Path, report: &Path, old: &Path) -> std::io::Result<()> {
    let _ = std::fs::remove_dir_all(old);
    if report.exists() {
        std::fs::rename(report, old)?;
    }
    std::fs::rename(partial, report)?;
    let _ = std::fs::remove_dir_all(old);
    Ok(())
}
