//! `cavascope score REPORT TRUTH` and `cavascope bench`: the scoring of
//! `cavascope-bench` from the command line, so versions (and other tools writing
//! report-v1) can be compared on the phantom suite without glue code.

use crate::args::*;
use crate::cmd::analyze::{analyze_parsed, ParsedInputs};
use cavascope_bench::{csv_bytes, read_report, read_truth, score, table, BenchRow};
use cavascope_phantom::{generate, write_study, CaseName, Truth, WriteOptions};
use cavascope_report::write_atomic;
use std::path::Path;
use std::time::Instant;

/// `cavascope score`: a line per check; 0 all pass, 1 any fails, 2 unreadable input.
pub fn run_score(_g: &Global, a: ScoreArgs) -> u8 {
    let report = match read_report(&a.report) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cavascope score: {e}");
            return 2;
        }
    };
    let truth = match read_truth(&a.truth) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("cavascope score: {e}");
            return 2;
        }
    };
    let checks = score(&report, &truth);
    for c in &checks {
        println!(
            "{} {}: {}",
            if c.pass { "pass" } else { "FAIL" },
            c.name,
            c.detail
        );
    }
    let failed = checks.iter().filter(|c| !c.pass).count();
    println!(
        "{}/{} checks pass ({} seed {})",
        checks.len() - failed,
        checks.len(),
        truth.case,
        truth.seed
    );
    u8::from(failed > 0)
}

/// Generate, analyse (seeds from nothing: auto mode, as a user would run it) and score one
/// case × seed into `dir`.
fn one(case: CaseName, seed: u64, size: &str, dir: &Path, keep: bool) -> Result<BenchRow, String> {
    let mut opts = super::phantom::options_for_size(size).ok_or("bad size")?;
    opts.seed = seed;
    let study_dir = dir.join("study");
    let st = generate(case, &opts);
    let written = write_study(&st, &study_dir, &WriteOptions::default()).map_err(|e| e.to_string())?;
    let truth: Truth = Truth::load(&written.truth_path).map_err(|e| e.to_string())?;
    let t0 = Instant::now();
    let res = analyze_parsed(&study_dir, &dir.join("report"), &ParsedInputs::default());
    let secs = t0.elapsed().as_secs_f64();
    let row = match res {
        Ok(s) => match serde_json::to_value(&s.report) {
            Ok(v) => BenchRow::from_report(&v, &truth, secs),
            Err(e) => BenchRow::failed(&truth, secs, &e.to_string()),
        },
        Err(e) => BenchRow::failed(&truth, secs, &e.to_string()),
    };
    if keep {
        tracing::info!("study kept: {}", written.dir.display());
    } else if let Err(e) = std::fs::remove_dir_all(&study_dir) {
        tracing::warn!("{}: cannot remove the generated study: {e}", study_dir.display());
    }
    Ok(row)
}

pub fn run(g: &Global, a: BenchArgs) -> u8 {
    let cases: Vec<CaseName> = if a.cases.is_empty() {
        CaseName::all().to_vec()
    } else {
        let mut v = Vec::new();
        for c in &a.cases {
            match CaseName::parse(c.trim()) {
                Some(c) => v.push(c),
                None => {
                    eprintln!(
                        "cavascope bench: unknown case {c:?}; known: {}",
                        super::phantom::known_cases()
                    );
                    return 2;
                }
            }
        }
        v
    };
    if super::phantom::options_for_size(&a.size).is_none() {
        eprintln!(
            "cavascope bench: --size must be small or standard, not {:?}",
            a.size
        );
        return 2;
    }
    if a.draws == 0 {
        eprintln!("cavascope bench: --draws must be at least 1");
        return 2;
    }
    let mut rows = Vec::new();
    for &case in &cases {
        for seed in 1..=a.draws {
            let dir = a.out.join(format!("{}-seed{seed}", case.as_str()));
            if !g.quiet {
                eprintln!("cavascope bench: {case} seed {seed} …");
            }
            match one(case, seed, &a.size, &dir, a.keep_studies) {
                Ok(r) => rows.push(r),
                Err(e) => {
                    eprintln!("cavascope bench: {case} seed {seed}: cannot generate the study: {e}");
                    return 1;
                }
            }
        }
    }
    print!("{}", table(&rows));
    let csv = match csv_bytes(&rows) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("cavascope bench: bench.csv: {e}");
            return 1;
        }
    };
    let json = match serde_json::to_string_pretty(&rows) {
        Ok(j) => j + "\n",
        Err(e) => {
            eprintln!("cavascope bench: bench.json: {e}");
            return 1;
        }
    };
    for (name, bytes) in [("bench.csv", csv), ("bench.json", json.into_bytes())] {
        if let Err(e) = write_atomic(&a.out, name, &bytes) {
            eprintln!("cavascope bench: {e}");
            return 1;
        }
    }
    if !g.quiet {
        eprintln!("cavascope bench: {}/bench.csv, bench.json", a.out.display());
    }
    // As `score`: 1 when any study failed a check, so a CI job can gate on it.
    u8::from(rows.iter().any(|r| !r.pass))
}
